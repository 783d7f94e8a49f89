"""The wiring: the command line, the dev stack, demo data and the worker's assembly.

It imports api, workflows, activities and db; nothing imports it.
"""
