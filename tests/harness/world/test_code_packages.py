"""Code packages: Code/Content folders in templates, layers, one module namespace per function, runtime checks."""

import sys
import textwrap
from pathlib import Path
import pytest

from drs_parity.errors import DrsParityError
from drs_parity.fixtures.cloudformation import read_template
from drs_parity.world.code import CodePackage, PLACEHOLDER, package_template, runtime_problem
from drs_parity.world.deploy import DeployError, Stack
from drs_parity.world.functions import DeployedFunction
from drs_parity.world.host import HostError
from drs_parity.world.world import World
from tests.harness.world.test_function_host import world  # noqa: F401  (the fixture: a started moto World)

TEAM = Path(__file__).resolve().parent / "packages" / "team"
TEMPLATE = TEAM / "template.yaml"
RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"


def deployed(name: str, handler: str, code: Path | None = None) -> DeployedFunction:
    return DeployedFunction(name=name, arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}", handler=handler,
                            code=code)


@pytest.fixture
def team(world: World) -> Stack:
    """The team's template deployed and loaded; its old-style function's code is the `legacy` folder."""
    stack = world.deploy(TEMPLATE, "team")
    world.host.load(stack, lambda logical_id: TEAM / "legacy" if logical_id == "LegacyFunction" else None)
    return stack


# -- one namespace per function ----------------------------------------------------------------------------------------
def test_two_functions_named_index_lambda_handler_each_see_only_their_own_shared(world: World, team: Stack) -> None:
    orders = world.host.invoke("orders", {}).result
    billing = world.host.invoke("billing", {}).result

    assert (orders["function"], orders["pricing"], orders["price"]) == ("orders", "orders-pricing", 11.0)
    assert (billing["function"], billing["pricing"], billing["price"]) == ("billing", "billing-pricing", 15)
    assert billing["sees_orders_module"] is False
    assert orders["task_root"] == str(TEAM / "orders")


def test_a_functions_modules_are_out_of_sys_modules_and_sys_path_once_it_returns(world: World, team: Stack) -> None:
    path_before = sys.path[:]

    world.host.invoke("orders", {})

    assert not {"index", "shared", "shared.pricing", "common_tools", "which_layer", "orders_only"} & set(sys.modules)
    assert sys.path == path_before


def test_a_module_of_the_process_with_the_same_name_is_hidden_while_the_function_runs_and_then_back(
        world: World, team: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    foreign = type(sys)("shared")
    monkeypatch.setitem(sys.modules, "shared", foreign)

    assert world.host.invoke("orders", {}).result["pricing"] == "orders-pricing"
    assert sys.modules["shared"] is foreign


def test_layers_reach_each_function_in_the_order_of_its_layers_with_module_state_of_its_own(
        world: World, team: Stack) -> None:
    first = world.host.invoke("orders", {}).result
    second = world.host.invoke("orders", {}).result
    billing = world.host.invoke("billing", {}).result

    assert (first["layer"], billing["layer"]) == ("common", "tools")  # the first layer listed wins
    assert (first["common"], second["common"], billing["common"]) == (1, 2, 1)  # one copy per function


def test_module_state_survives_warm_invocations_and_a_deploy_is_a_cold_start(world: World, team: Stack) -> None:
    warm = [world.host.invoke("orders", {}).result["invocations"] for _ in range(3)]
    world.host.load(team)
    redeployed = world.host.invoke("orders", {}).result["invocations"]

    assert (warm, redeployed) == ([1, 2, 3], 1)


def test_a_synchronous_invoke_runs_the_callee_in_its_namespace_and_gives_the_caller_back_its_own(
        world: World, team: Stack) -> None:
    orders = world.host.invoke("orders", {"ask": "billing"})

    assert orders.error is None
    assert orders.result["billing"]["pricing"] == "billing-pricing"
    assert orders.result["billing"]["sees_orders_module"] is False
    assert orders.result["pricing_after"] == "orders-pricing"
    assert [invocation.trigger for invocation in world.host.invocations] == ["direct", "invoke"]


# -- where code comes from ---------------------------------------------------------------------------------------------
def test_the_backend_never_sees_a_local_folder_and_a_layers_ref_is_its_arn(world: World, team: Stack) -> None:
    code = world.client("lambda").get_function(FunctionName="orders")["Configuration"]

    assert code["Handler"] == "index.lambda_handler"
    assert team.outputs["CommonLayerArn"] == "arn:aws:lambda:us-east-1:123456789012:layer:team-common:1"
    assert world.host.functions["orders"].environment["COMMON_LAYER"] == team.outputs["CommonLayerArn"]
    assert team.code["OrdersFunction"].folder == TEAM / "orders"
    assert team.code["OrdersFunction"].layers == (TEAM / "common" / "python", TEAM / "tools")
    assert team.code["LegacyFunction"].folder is None


def test_packaging_replaces_local_code_by_inline_placeholders_and_keeps_the_template_given() -> None:
    template = read_template(TEMPLATE)

    packaged = package_template(template, TEAM)

    resources = packaged.template["Resources"]
    assert resources["OrdersFunction"]["Properties"]["Code"] == {"ZipFile": PLACEHOLDER}
    assert set(resources["CommonLayer"]["Properties"]["Content"]) == {"ZipFile"}
    assert "Fn::Join" in resources["OrdersFunction"]["Properties"]["Layers"][0]
    assert template["Resources"]["OrdersFunction"]["Properties"]["Code"] == "orders/"  # the input is untouched
    assert packaged.problems == [] and packaged.changed


def test_an_inline_function_runs_from_the_code_folder_the_system_description_names(world: World,
                                                                                      team: Stack) -> None:
    assert world.host.invoke("legacy", {}).result == {"legacy": "legacy-helpers"}


def test_a_function_without_a_code_folder_imports_from_the_directory_you_run_in(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cwd_app.py").write_text("import os\n\ndef handler(event, context):\n"
                                         "    return os.environ['LAMBDA_TASK_ROOT']\n")
    monkeypatch.chdir(tmp_path)
    world.host.add_function(deployed("here", "cwd_app.handler"))

    assert world.host.invoke("here", {}).result == str(tmp_path.resolve())
    assert "cwd_app" not in sys.modules


def test_a_code_folder_that_does_not_exist_is_a_deploy_error_naming_function_and_property(world: World,
                                                                                          tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    text = TEMPLATE.read_text().replace("Code: ./billing", "Code: ./billing-gone")
    for folder in ("common/", "tools", "orders/"):
        text = text.replace(f": {folder}\n", f": {TEAM / folder}\n")
    template.write_text(text)

    with pytest.raises(DeployError) as error:
        world.deploy(template, "gone")

    assert error.value.resource == "BillingFunction"
    assert error.value.reason == f"Code: {tmp_path / 'billing-gone'} is no folder (nor zip) of code"


# -- runtimes ----------------------------------------------------------------------------------------------------------
INLINE = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{Version: "2012-10-17", Statement: []}}
  NewerFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: {runtime}
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {{ZipFile: "def handler(event, context): return 1"}}
"""


@pytest.mark.parametrize("runtime, message", [
    ("python3.99", f"Runtime python3.99 is newer than the Python running drs-parity ({RUNNING}): "
                   f"run drs-parity under Python 3.99 or newer"),
    ("nodejs20.x", "Runtime nodejs20.x is not a Python runtime: the function host runs Python handlers only"),
])
def test_a_runtime_this_interpreter_cannot_run_is_a_one_line_deploy_error_naming_the_function(
        world: World, tmp_path: Path, runtime: str, message: str) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(INLINE.format(runtime=runtime))

    with pytest.raises(DeployError) as error:
        world.deploy(template, "newer")

    assert str(error.value) == f"stack newer: resource NewerFunction failed: {message}"
    assert isinstance(error.value, DrsParityError)


def test_a_runtime_known_only_once_deployed_is_a_host_error_at_load(world: World, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Parameters:\n  Runtime: {Type: String}\n" + INLINE.format(runtime="!Ref Runtime"))
    stack = world.deploy(template, "later", parameters={"Runtime": "python3.99"})

    with pytest.raises(HostError) as error:
        world.host.load(stack)

    assert str(error.value).startswith("function NewerFunction (")
    assert str(error.value).endswith("): Runtime python3.99 is newer than the Python running drs-parity "
                                     f"({RUNNING}): run drs-parity under Python 3.99 or newer")
    assert world.host.functions == {}


def test_runtimes_this_interpreter_runs_raise_nothing() -> None:
    assert [runtime_problem(runtime) for runtime in ("python3.8", f"python{RUNNING}", None, {"Ref": "R"})] == [
        None] * 4


# -- CodePackage for tests of production code --------------------------------------------------------------------------
def test_code_package_imports_a_module_in_isolation_without_installing_anything() -> None:
    orders = CodePackage(TEAM / "orders", TEAM / "common" / "python")
    billing = CodePackage.of_function(TEMPLATE, "BillingFunction")

    assert orders.module("shared.pricing").NAME == "orders-pricing"
    assert billing.module("shared.pricing").price(10) == 15
    assert billing.module("which_layer").NAME == "tools"
    assert orders.module("shared.pricing") is orders.module("shared.pricing")  # kept: imported once
    assert "shared" not in sys.modules and "which_layer" not in sys.modules


def test_code_package_active_block_serves_function_level_imports(tmp_path: Path) -> None:
    (tmp_path / "lazy.py").write_text(textwrap.dedent("""\
        def later():
            import helper
            return helper.NAME
    """))
    (tmp_path / "helper.py").write_text("NAME = 'helper'\n")
    package = CodePackage(tmp_path)
    lazy = package.module("lazy")

    with package.active():
        assert lazy.later() == "helper"
    assert "helper" not in sys.modules and set(package.modules) == {"lazy", "helper"}


def test_a_failed_init_leaves_nothing_behind_the_next_invocation_starts_cold(world: World, tmp_path: Path) -> None:
    (tmp_path / "side.py").write_text("from pathlib import Path\n\nwith open(Path(__file__).with_name('loads.txt'), "
                                      "'a') as loads:\n    loads.write('loaded\\n')\n")
    (tmp_path / "app.py").write_text("import side\n\nraise RuntimeError('init failed')\n")
    world.host.add_function(deployed("app", "app.handler", code=tmp_path))

    failed = world.host.invoke("app", {})
    (tmp_path / "app.py").write_text("import side\n\n\ndef handler(event, context):\n    return 'ok'\n")
    answered = world.host.invoke("app", {})

    assert failed.error == {"type": "Runtime.ImportModuleError",
                            "message": "Unable to import module 'app': init failed"}
    assert answered.result == "ok"
    assert (tmp_path / "loads.txt").read_text() == "loaded\nloaded\n"  # side ran again: a fresh namespace
