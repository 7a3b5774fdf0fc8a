"""The API's plumbing, shared by every app's endpoints: ``base`` (the view every endpoint is, and what a
public one mixes in), ``errors`` (the one error format), ``fields`` (strict input), ``parsers``,
``pagination`` (cursor pages, numbered pages) and ``urls`` (every app's endpoints under /api/v1/).
The endpoints themselves live with their app: ``tickets.api``, ``customers.api``, ``customers.public_api``.
"""
