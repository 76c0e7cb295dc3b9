"""The deidentify and transcripts show commands."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from alliance.cli import main


def test_deidentify_writes_out_file_and_summary(tmp_path: Path) -> None:
    source = tmp_path / "s.txt"
    source.write_text("T: Hi Maria.\nC: Call me on 07700 900123.\n", encoding="utf-8")
    roster = tmp_path / "names.txt"
    roster.write_text("# people\nMaria\n\n", encoding="utf-8")
    out = tmp_path / "s.deid.txt"
    result = CliRunner().invoke(main, ["deidentify", str(source), "--roster", str(roster),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "T: Hi [NAME].\nC: Call me on [PHONE].\n"
    assert "NAME 1, PHONE 1" in result.output


def test_deidentify_to_stdout(tmp_path: Path) -> None:
    source = tmp_path / "n.txt"
    source.write_text("Seen on 2024-01-05.", encoding="utf-8")
    result = CliRunner().invoke(main, ["deidentify", str(source)])
    assert result.exit_code == 0
    assert "Seen on [DATE]." in result.output


def test_deidentify_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    source = tmp_path / "s.txt"
    source.write_text("T: hi\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["deidentify", str(source), "--out", str(source)])
    assert result.exit_code == 1
    assert "must differ" in result.output
    assert source.read_text(encoding="utf-8") == "T: hi\n"


def test_deidentify_missing_file_and_missing_roster_are_readable_errors(tmp_path: Path
                                                                       ) -> None:
    result = CliRunner().invoke(main, ["deidentify", str(tmp_path / "none.txt")])
    assert result.exit_code == 1 and "file not found" in result.output
    source = tmp_path / "s.txt"
    source.write_text("T: hi\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["deidentify", str(source), "--roster",
                                       str(tmp_path / "none.txt")])
    assert result.exit_code == 1 and "roster file not found" in result.output


def test_deidentify_empty_roster_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "s.txt"
    source.write_text("T: hi\n", encoding="utf-8")
    roster = tmp_path / "names.txt"
    roster.write_text("# nobody\n\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["deidentify", str(source), "--roster", str(roster)])
    assert result.exit_code == 1 and "roster has no names" in result.output


def test_deidentify_binary_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "s.bin"
    source.write_bytes(b"\x00\xff\x00")
    result = CliRunner().invoke(main, ["deidentify", str(source)])
    assert result.exit_code == 1 and "binary" in result.output


def test_deidentify_example_with_roster(examples: Path) -> None:
    result = CliRunner().invoke(main, ["deidentify", str(examples / "with_identifiers.txt"),
                                       "--roster", str(examples / "names.txt")])
    assert result.exit_code == 0, result.output
    assert ("PERSON_2: Yes. Or email me, [EMAIL]. I moved to [ADDRESS] on [DATE]."
            in result.output)
    for leaked in ("Maria", "Okafor", "07700", "LS6", "485 777"):
        assert leaked not in result.output.split("replaced")[0]


def test_show_prints_turns_with_roles(examples: Path) -> None:
    result = CliRunner().invoke(main, ["transcripts", "show",
                                       str(examples / "whisperx.vtt"), "--roles",
                                       "SPEAKER_00=therapist,SPEAKER_01=client"])
    assert result.exit_code == 0, result.output
    assert "1     4.60s SPEAKER_01 (client): Probably with the argument" in result.output


def test_show_without_roles_for_diarized_ids_names_the_roles_syntax(examples: Path) -> None:
    result = CliRunner().invoke(main, ["transcripts", "show",
                                       str(examples / "whisperx.vtt")])
    assert result.exit_code == 1
    assert "--roles" in result.output and "Traceback" not in result.output


def test_show_with_malformed_roles_is_a_readable_error(examples: Path) -> None:
    result = CliRunner().invoke(main, ["transcripts", "show", str(examples / "session.txt"),
                                       "--roles", "T-therapist"])
    assert result.exit_code == 1 and "SPEAKER=role" in result.output


def test_every_command_here_has_an_example_in_its_help() -> None:
    for args in (["deidentify", "--help"], ["transcripts", "--help"],
                 ["transcripts", "show", "--help"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0
        assert "Example" in result.output, args


def test_deidentify_and_show_never_import_torch(examples: Path) -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom click.testing import CliRunner\nfrom alliance.cli import main\n"
            f"r = CliRunner().invoke(main, ['deidentify', {str(examples / 'session.vtt')!r}])\n"
            "assert r.exit_code == 0, r.output\n"
            f"r = CliRunner().invoke(main, ['transcripts', 'show', "
            f"{str(examples / 'session.txt')!r}])\n"
            "assert r.exit_code == 0, r.output\n"
            "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
