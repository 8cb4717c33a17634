"""The two KFP SDKs behind one interface: load, compile, and resolve a step's argv.

`SDK` is `V1()` under kfp 1.x and `V2()` under kfp 2.x. Each resolves the compiled
step's container command and args the way its backend would before the container
starts (v1: Argo parameter substitution; v2: the driver's placeholder rules, as
described in shared/reference/kfp-component-rules.md), so the launcher is run with the
argv a real pod would get.
"""

import decimal
import pathlib
import json
import re
import warnings

import kfp
import yaml
from kfp import compiler, components

MAJOR = int(kfp.__version__.split(".")[0])

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")

# The Argo workflow a run becomes: its uid and name, for `{{workflow.uid}}` and
# `{{node.name}}`, which Argo substitutes on both backends (see `argo_variable`).
WORKFLOW_UID = "9f1c2d3e-0000-4a5b-8c7d-6e5f4a3b2c1d"
WORKFLOW_NAME = "churn-training-x7k2p"


def argo_variable(expr, node_name, workflow_uid=WORKFLOW_UID):
    """What Argo puts for the two variables the component uses to name the run and step.
    `{{node.name}}` is the node of the step, the same for every retry attempt (Argo
    substitutes it before the retry child `<node>(<n>)` is made; Argo >= 3.4)."""
    return {"workflow.uid": workflow_uid, "node.name": node_name}.get(expr)


class Unresolved(AssertionError):
    """A placeholder the backend would not be able to fill."""


def _substitute(text, lookup):
    def replace(match):
        value = lookup(match.group(1))
        if value is None:
            raise Unresolved(f"unresolved placeholder {match.group(0)} in {text!r}")
        return value

    return _PLACEHOLDER.sub(replace, text)


def record_warnings(action):
    """Runs `action`, returning (its result, every warning it raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = action()
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


class Step:
    """One compiled container step: its argv before and after placeholder resolution."""

    def __init__(self, command, args, resolved):
        self.command = command
        self.args = args
        self.raw_argv = command + args
        self.argv = resolved


class _Sdk:
    """Loading and compiling read the same in both SDKs."""

    @staticmethod
    def load(path):
        return components.load_component_from_file(str(path))

    @staticmethod
    def load_text(text):
        return components.load_component_from_text(text)

    @staticmethod
    def python_component(func, base_image):
        """A lightweight Python component made from `func` (its annotations are its types)."""
        if MAJOR == 1:
            # kfp 1.8 strips the annotations with lib2to3, whose import warns on Python 3.11
            # (the SDK's own noise, raised once per process whatever the function).
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "lib2to3 package is deprecated", DeprecationWarning)
                return components.create_component_from_func(func, base_image=base_image)
        from kfp import dsl

        return dsl.component(func, base_image=base_image)

    @staticmethod
    def compile(pipeline_func, package_path):
        """Returns (the compiled Argo workflow or pipeline IR as a dict, the warnings raised)."""

        def run():
            compiler.Compiler().compile(pipeline_func, str(package_path))
            return yaml.safe_load(package_path.read_text())

        return record_warnings(run)


class V1(_Sdk):
    """kfp 1.8: compiles to an Argo Workflow; values are Argo parameter strings."""

    major = 1
    # A pipeline parameter annotated `bool` is typed "Boolean" by kfp 1.x and then fails
    # its own type check against a "Bool" input (so it did with the earlier component);
    # the annotation that works is the type name itself.
    BOOL = "Bool"
    # Every ContainerOp the v1 SDK builds from a component.yaml triggers this pending
    # deprecation inside the SDK (dsl/_component_bridge.py passes `image=`); the test
    # `test_sdk_noise_is_the_same_for_a_trivial_component` shows it is not ours.
    SDK_NOISE = (
        "PendingDeprecationWarning: `dsl.ContainerOp.image` will be removed in future "
        "releases. Use `dsl.ContainerOp.container.image` instead.",
    )
    OUTPUT_DIR = "/tmp/outputs/{name}/data"

    @staticmethod
    def text(value):
        """How a value reaches an Argo parameter from Python (the SDK's serialisation)."""
        if isinstance(value, str):
            return value
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def step(self, workflow, image_command, run_arguments=None, whole_as_float=False, task=None,
             workflow_uid=WORKFLOW_UID, outputs=None):
        """The step whose command starts with `image_command` (the task named `task`, if
        given), resolved for a run with `run_arguments` (pipeline parameter name -> value)
        overriding the defaults, in the workflow `workflow_uid`; `outputs` maps
        (producer task, output name) to the value an upstream step wrote.
        v1 numbers are the Python text the SDK wrote: there is no second form."""
        assert not whole_as_float, "kfp 1.x passes numbers as written"
        spec = workflow["spec"]
        templates = {t["name"]: t for t in spec["templates"]}
        workflow_params = {p["name"]: p.get("value") for p in spec.get("arguments", {}).get("parameters", [])}
        for name, value in (run_arguments or {}).items():
            assert name in workflow_params, f"no pipeline parameter {name}"
            workflow_params[name] = self.text(value)
        entry = templates[spec["entrypoint"]]
        # Argo hands the workflow's arguments to the entrypoint template's inputs.
        entry_inputs = {p["name"]: workflow_params[p["name"]] for p in entry.get("inputs", {}).get("parameters", [])}

        def in_entry(expr):
            for prefix, source in (("inputs.parameters.", entry_inputs), ("workflow.parameters.", workflow_params)):
                if expr.startswith(prefix):
                    return source.get(expr[len(prefix):])
            if expr.startswith("tasks."):
                # Argo reads an output parameter from the file the producer wrote, as is;
                # the v1 SDK names it `<producer>-<output>`.
                _, producer, _, _, parameter = expr.split(".")
                value = (outputs or {}).get((producer, parameter.removeprefix(f"{producer}-")))
                return None if value is None else self.text(value)
            return None

        matches = [
            (t, templates[t["template"]])
            for t in entry["dag"]["tasks"]
            if templates[t["template"]].get("container", {}).get("command", [])[:1] == [image_command]
            and (task is None or t["name"] == task)
        ]
        assert len(matches) == 1, f"expected one step running {image_command}, found {len(matches)}"
        task, template = matches[0]
        # Argo names a DAG task's node `<the DAG's node>.<task>`; the entry DAG's node is the workflow.
        node_name = f"{WORKFLOW_NAME}.{task['name']}"
        task_args = {
            p["name"]: _substitute(p["value"], in_entry) for p in task.get("arguments", {}).get("parameters", [])
        }
        declared = {p["name"] for p in template.get("inputs", {}).get("parameters", [])}
        assert declared == set(task_args), "template inputs and task arguments differ"

        def in_template(expr):
            prefix = "inputs.parameters."
            if expr.startswith(prefix):
                return task_args.get(expr[len(prefix):])
            return argo_variable(expr, node_name, workflow_uid)

        container = template["container"]
        command, args = container["command"], container.get("args", [])
        resolved = [_substitute(a, in_template) for a in command + args]
        return Step(command, args, resolved)

    @staticmethod
    def consumed_files(workflow, consumer_image_command):
        """For the step running `consumer_image_command`: the files its inputs are read from
        (Argo reads an output parameter from a file the producer wrote), and the tasks it
        waits for."""
        spec = workflow["spec"]
        templates = {t["name"]: t for t in spec["templates"]}
        entry = templates[spec["entrypoint"]]
        task = next(
            t for t in entry["dag"]["tasks"]
            if templates[t["template"]]["container"]["command"][:1] == [consumer_image_command]
        )
        written = {}
        for producer in entry["dag"]["tasks"]:
            for p in templates[producer["template"]].get("outputs", {}).get("parameters", []):
                written[f"tasks.{producer['name']}.outputs.parameters.{p['name']}"] = (producer["name"], p["valueFrom"]["path"])
        files = []
        for p in task["arguments"]["parameters"]:
            producer, path = written[_PLACEHOLDER.fullmatch(p["value"]).group(1)]
            assert producer in task.get("dependencies", []), f"{p['name']} comes from {producer}, not waited for"
            files.append(path)
        return sorted(files), task.get("dependencies", [])


def _go_string(s):
    # Go's encoding/json: UTF-8 kept, HTML characters and line/paragraph separators escaped.
    out = json.dumps(s, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        out = out.replace(char, escaped)
    return out


def _go_number(f, whole_as_float):
    # Numbers live in protobuf Struct values as float64. Go's encoding/json writes them in
    # the shortest form, without exponent for 1e-6 <= |f| < 1e21; `whole_as_float` models
    # the other form the rules name ("whole numbers may arrive as 3600.0").
    f = float(f)
    if f.is_integer() and abs(f) < 1e21:
        return f"{int(f)}.0" if whole_as_float else str(int(f))
    r = repr(f)
    if f != 0 and (abs(f) < 1e-6 or abs(f) >= 1e21):
        mantissa, exponent = r.split("e")
        return f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0') or '0'}"
    return format(decimal.Decimal(r), "f")


def go_json(value, whole_as_float=False):
    """Compact JSON as the v2 driver writes a Struct or List value: sorted keys."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_number(value, whole_as_float)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, list):
        return "[" + ",".join(go_json(v, whole_as_float) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(
            f"{_go_string(k)}:{go_json(value[k], whole_as_float)}" for k in sorted(value)
        ) + "}"
    raise TypeError(f"not a protobuf Value: {value!r}")


class V2(_Sdk):
    """kfp 2.x: compiles to pipeline IR; the driver turns protobuf Values into text."""

    major = 2
    BOOL = bool
    SDK_NOISE = ()
    OUTPUT_DIR = "/tmp/kfp/outputs/{name}"

    @staticmethod
    def text(value, whole_as_float=False):
        """The placeholder text for a parameter value (the driver's PbValueToText)."""
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            f = float(value)
            return str(int(f)) if f.is_integer() else format(decimal.Decimal(repr(f)), "f")
        return go_json(value, whole_as_float)

    def step(self, ir, image_command, run_arguments=None, whole_as_float=False, task=None,
             workflow_uid=WORKFLOW_UID, outputs=None):
        """As `V1.step`. The v2 driver puts the resolved user command into the pod spec
        patch it hands to the executor template; Argo substitutes the workflow's and the
        node's variables in it like in any template value (first pass of its
        SubstituteParams), so `{{workflow.uid}}` and `{{node.name}}` work here too."""
        root_params = ir["root"].get("inputDefinitions", {}).get("parameters", {})
        run_arguments = run_arguments or {}
        for name in run_arguments:
            assert name in root_params, f"no pipeline parameter {name}"
        executors = ir["deploymentSpec"]["executors"]
        matches = []
        for task_name, task_spec in ir["root"]["dag"]["tasks"].items():
            component = ir["components"][task_spec["componentRef"]["name"]]
            container = executors[component["executorLabel"]]["container"]
            if container["command"][:1] == [image_command] and (task is None or task_name == task):
                matches.append((task_name, task_spec, component, container))
        assert len(matches) == 1, f"expected one step running {image_command}, found {len(matches)}"
        task_name, task, component, container = matches[0]
        # The executor's node inside the task's DAG (driver, then executor).
        node_name = f"{WORKFLOW_NAME}.root.{task_name}.executor"
        given = task.get("inputs", {}).get("parameters", {})
        definitions = component.get("inputDefinitions", {}).get("parameters", {})

        def value_of(name):
            if name in given:
                source = given[name]
                if "runtimeValue" in source:
                    return source["runtimeValue"]["constant"]
                if "componentInputParameter" in source:
                    param = source["componentInputParameter"]
                    if param in run_arguments:
                        return run_arguments[param]
                    assert "defaultValue" in root_params[param], f"pipeline parameter {param} has no value"
                    return root_params[param]["defaultValue"]
                if "taskOutputParameter" in source:
                    # The driver reads the producer's output parameter (parsed by its type).
                    output = source["taskOutputParameter"]
                    key = (output["producerTask"], output["outputParameterKey"])
                    if key in (outputs or {}):
                        return outputs[key]
                raise Unresolved(f"input {name}: unsupported source {source}")
            if "defaultValue" in definitions.get(name, {}):
                return definitions[name]["defaultValue"]
            return None

        input_re = re.compile(r"\$\.inputs\.parameters\['([^']+)'\]")
        output_re = re.compile(r"\$\.outputs\.parameters\['([^']+)'\]\.output_file")

        def lookup(expr):
            if m := input_re.fullmatch(expr):
                value = value_of(m.group(1))
                return None if value is None else self.text(value, whole_as_float)
            if m := output_re.fullmatch(expr):
                return self.OUTPUT_DIR.format(name=m.group(1))
            return argo_variable(expr, node_name, workflow_uid)

        command, args = container["command"], container.get("args", [])
        resolved = []
        for a in command + args:
            # An `isPresent` condition compiles to this JSON text; the launcher of the
            # executor expands it into its Then (or Else) items.
            if a.startswith('{"IfPresent"'):
                branch = json.loads(a)["IfPresent"]
                present = value_of(branch["InputName"]) is not None
                resolved += [_substitute(x, lookup) for x in branch.get("Then" if present else "Else", [])]
            else:
                resolved.append(_substitute(a, lookup))
        return Step(command, args, resolved)

    def consumed_files(self, ir, consumer_image_command):
        """As `V1.consumed_files`: the driver reads each output parameter of the producer
        from the file the producer's `output_file` placeholder named."""
        executors = ir["deploymentSpec"]["executors"]
        for task in ir["root"]["dag"]["tasks"].values():
            component = ir["components"][task["componentRef"]["name"]]
            if executors[component["executorLabel"]]["container"]["command"][:1] == [consumer_image_command]:
                files = []
                for name, source in task["inputs"]["parameters"].items():
                    output = source["taskOutputParameter"]
                    assert output["producerTask"] in task.get("dependentTasks", []), f"{name} not waited for"
                    files.append(self.OUTPUT_DIR.format(name=output["outputParameterKey"]))
                return sorted(files), task.get("dependentTasks", [])
        raise AssertionError(f"no step running {consumer_image_command}")


SDK = V1() if MAJOR == 1 else V2()


GENERATED = pathlib.Path(__file__).resolve().parent.parent / "generated" / "components"


def component_path(module):
    """The generated component.yaml of a module (`processing_job`)."""
    return GENERATED / module / "component.yaml"


def load_component(module):
    return SDK.load(component_path(module))


def alone(module, component, arguments):
    """A pipeline of one step: `component` called with `arguments`."""
    from kfp import dsl

    @dsl.pipeline(name=f"{module.replace('_', '-')}-alone")
    def pipeline():
        component(**arguments)

    return pipeline


def assert_declared_types(component, spec):
    """The loaded component has exactly the inputs and outputs `spec` (its component.yaml)
    declares, each with the type the SDK makes of the declared one, and no artifacts."""
    declared = {i["name"]: i["type"] for i in spec["inputs"]}
    declared_outputs = {o["name"]: o["type"] for o in spec["outputs"]}
    if SDK.major == 1:
        assert {i.name: i.type for i in component.component_spec.inputs} == declared
        assert {o.name: o.type for o in component.component_spec.outputs} == declared_outputs
        return
    from kfp.pipeline_spec import pipeline_spec_pb2

    parameter_type = {
        "String": "STRING", "Integer": "NUMBER_INTEGER", "Float": "NUMBER_DOUBLE", "Bool": "BOOLEAN",
        "JsonObject": "STRUCT", "JsonArray": "LIST",
    }
    type_name = pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name
    root = component.pipeline_spec.root
    seen = {n: type_name(p.parameter_type) for n, p in root.input_definitions.parameters.items()}
    assert seen == {n: parameter_type[t] for n, t in declared.items()}
    seen_outputs = {n: type_name(p.parameter_type) for n, p in root.output_definitions.parameters.items()}
    assert seen_outputs == {n: parameter_type[t] for n, t in declared_outputs.items()}
    assert len(root.input_definitions.artifacts) == 0
    assert len(root.output_definitions.artifacts) == 0
