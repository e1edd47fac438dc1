"""Validates YAML files against a JSON Schema (python-jsonschema), printing
one line per file: `ok NAME` or `invalid NAME: message`.
Usage: validate.py SCHEMA.json FILE.yaml..."""
import json
import sys

import jsonschema
import yaml



class Loader(yaml.SafeLoader):
    """YAML 1.2 as editors read it: a date stays text, as formpress reads it."""


Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

schema = json.load(open(sys.argv[1], encoding="utf-8"))
for path in sys.argv[2:]:
    data = yaml.load(open(path, encoding="utf-8"), Loader=Loader)
    try:
        jsonschema.validate(data, schema)
        print(f"ok {path}")
    except jsonschema.ValidationError as e:
        print(f"invalid {path}: {e.message}")
