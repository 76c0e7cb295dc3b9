"""Seeded generators for tests, benchmarks and evaluations, kept out of the runtime core.

Nothing in the library, the CLI or the web app imports this package (an architecture test
says so). :mod:`alliance.testing.responses` simulates questionnaire responses with known
psychometric structure; :mod:`alliance.testing.phi_corpus` plants identifiers in therapy-like
sentences to measure de-identification recall (``python -m alliance.testing.phi_corpus``).
The synthetic *case* generator, a user feature, stays in :mod:`alliance.monitoring.synthetic`.
"""
