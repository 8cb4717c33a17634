"""The generated component.yaml loads in the SDK and keeps the earlier component's interface."""

import yaml

import pipelines
from sdk import SDK, record_warnings


def _spec(component_path):
    return yaml.safe_load(component_path.read_text())


def test_component_loads_without_warnings(component_path):
    component, caught = record_warnings(lambda: SDK.load(component_path))
    assert caught == []
    assert component is not None


def test_keeps_every_input_of_the_earlier_component_with_its_type(component_path):
    inputs = {i["name"]: i for i in _spec(component_path)["inputs"]}
    assert {name: inputs.get(name, {}).get("type") for name in pipelines.EARLIER_INPUTS} == pipelines.EARLIER_INPUTS


def test_keeps_every_output_of_the_earlier_component_with_its_type(component_path):
    outputs = {o["name"]: o["type"] for o in _spec(component_path)["outputs"]}
    assert {name: outputs.get(name) for name in pipelines.EARLIER_OUTPUTS} == pipelines.EARLIER_OUTPUTS


def test_inputs_newer_crds_added_are_optional(component_path):
    # A pipeline written for the earlier component does not pass them.
    added = [i for i in _spec(component_path)["inputs"] if i["name"] not in pipelines.EARLIER_INPUTS]
    assert [i["name"] for i in added if "default" not in i] == []


def test_sdk_reads_the_declared_types(component_path, train):
    declared = {i["name"]: i["type"] for i in _spec(component_path)["inputs"]}
    if SDK.major == 1:
        seen = {i.name: i.type for i in train.component_spec.inputs}
        assert seen == declared
    else:
        # v2 maps the v1 type names to parameter types; anything else would be an artifact,
        # which `inputValue` cannot take.
        parameter_type = {"String": "STRING", "Bool": "BOOLEAN", "JsonObject": "STRUCT", "JsonArray": "LIST"}
        from kfp.pipeline_spec import pipeline_spec_pb2

        type_name = pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name
        root = train.pipeline_spec.root
        seen = {n: type_name(p.parameter_type) for n, p in root.input_definitions.parameters.items()}
        assert seen == {n: parameter_type[t] for n, t in declared.items()}
        declared_outputs = {o["name"]: o["type"] for o in _spec(component_path)["outputs"]}
        seen_outputs = {n: type_name(p.parameter_type) for n, p in root.output_definitions.parameters.items()}
        assert seen_outputs == {n: parameter_type[t] for n, t in declared_outputs.items()}
        assert len(root.output_definitions.artifacts) == 0
        assert len(root.input_definitions.artifacts) == 0
