"""Marshmallow schemas: they validate requests and generate the OpenAPI spec."""
