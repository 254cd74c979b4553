"""Queries for the books: the company and chart, and the journal."""
