"""Tests of the artifact registry."""
