"""Microsoft's v1.0 Python SDK (msgraph-sdk), unchanged, against enrollgraph's /v1.0.

Every v1.0 endpoint and action of the area goes through the SDK's typed request builders and
models: derived types come back as their own classes, paging goes through msgraph-core's
PageIterator, errors surface as the SDK's ODataError, and $batch through `client.batch`.
"""

import json
import uuid

import msgraph
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.request_information import RequestInformation
from kiota_serialization_json.json_parse_node import JsonParseNode
from msgraph.generated.device_management.device_enrollment_configurations.device_enrollment_configurations_request_builder import (
    DeviceEnrollmentConfigurationsRequestBuilder,
)
from msgraph.generated.device_management.device_enrollment_configurations.item.assign.assign_post_request_body import (
    AssignPostRequestBody,
)
from msgraph.generated.device_management.device_enrollment_configurations.item.assignments.assignments_request_builder import (
    AssignmentsRequestBuilder,
)
from msgraph.generated.device_management.device_enrollment_configurations.item.device_enrollment_configuration_item_request_builder import (
    DeviceEnrollmentConfigurationItemRequestBuilder,
)
from msgraph.generated.device_management.device_enrollment_configurations.item.set_priority.set_priority_post_request_body import (
    SetPriorityPostRequestBody,
)
from msgraph.generated.models.all_devices_assignment_target import AllDevicesAssignmentTarget
from msgraph.generated.models.all_licensed_users_assignment_target import AllLicensedUsersAssignmentTarget
from msgraph.generated.models.device_enrollment_configuration import DeviceEnrollmentConfiguration
from msgraph.generated.models.device_enrollment_configuration_collection_response import (
    DeviceEnrollmentConfigurationCollectionResponse,
)
from msgraph.generated.models.device_enrollment_limit_configuration import DeviceEnrollmentLimitConfiguration
from msgraph.generated.models.device_enrollment_platform_restriction import DeviceEnrollmentPlatformRestriction
from msgraph.generated.models.device_enrollment_platform_restrictions_configuration import (
    DeviceEnrollmentPlatformRestrictionsConfiguration,
)
from msgraph.generated.models.device_enrollment_windows_hello_for_business_configuration import (
    DeviceEnrollmentWindowsHelloForBusinessConfiguration,
)
from msgraph.generated.models.enablement import Enablement
from msgraph.generated.models.enrollment_configuration_assignment import EnrollmentConfigurationAssignment
from msgraph.generated.models.exclusion_group_assignment_target import ExclusionGroupAssignmentTarget
from msgraph.generated.models.group_assignment_target import GroupAssignmentTarget
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.windows10_enrollment_completion_page_configuration import (
    Windows10EnrollmentCompletionPageConfiguration,
)
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem
from msgraph_core.tasks.page_iterator import PageIterator

from conftest import inspect_headers, make_client, response_header

ListQuery = DeviceEnrollmentConfigurationsRequestBuilder.DeviceEnrollmentConfigurationsRequestBuilderGetQueryParameters
ItemQuery = DeviceEnrollmentConfigurationItemRequestBuilder.DeviceEnrollmentConfigurationItemRequestBuilderGetQueryParameters
AssignmentsQuery = AssignmentsRequestBuilder.AssignmentsRequestBuilderGetQueryParameters


@pytest.fixture
def client(base_url, token):
    return make_client(msgraph, f"{base_url}/v1.0", token)


@pytest.fixture
def configs(client):
    return client.device_management.device_enrollment_configurations


def group() -> str:
    return str(uuid.uuid4())


# The four kinds v1.0 has, each with a setting of its own.
KINDS = [
    (DeviceEnrollmentLimitConfiguration, "_Limit", dict(limit=4)),
    (
        DeviceEnrollmentPlatformRestrictionsConfiguration,
        "_PlatformRestrictions",
        dict(android_restriction=DeviceEnrollmentPlatformRestriction(platform_blocked=True)),
    ),
    (
        DeviceEnrollmentWindowsHelloForBusinessConfiguration,
        "_WindowsHelloForBusiness",
        dict(state=Enablement.Disabled, pin_maximum_length=64),
    ),
    (
        Windows10EnrollmentCompletionPageConfiguration,
        "_Windows10EnrollmentCompletionPageConfiguration",
        dict(allow_non_blocking_app_installation=True),
    ),
]


@pytest.mark.parametrize("cls,suffix,settings", KINDS, ids=[k[0].__name__ for k in KINDS])
def test_create_get_patch_delete_every_kind(run, configs, cls, suffix, settings):
    async def go():
        created = await configs.post(cls(display_name=f"v1 {cls.__name__}", **settings))
        assert type(created) is cls and created.id.endswith(suffix), (type(created), created.id)
        assert created.version == 1 and created.priority >= 1
        for name, value in settings.items():
            got = getattr(created, name)
            if isinstance(value, DeviceEnrollmentPlatformRestriction):
                assert got.platform_blocked is True
            else:
                assert got == value, (name, got)

        item = configs.by_device_enrollment_configuration_id(created.id)
        assert await item.patch(cls(description="patched")) is None
        back = await item.get()
        assert type(back) is cls and back.description == "patched" and back.version == 2

        assert await item.delete() is None
        with pytest.raises(ODataError) as err:
            await item.get()
        assert err.value.response_status_code == 404 and err.value.error.code == "ResourceNotFound"

    run(go())


def test_list_query_and_count(run, configs):
    async def go():
        tag = uuid.uuid4().hex[:8]
        for n in (1, 2, 3):
            await configs.post(DeviceEnrollmentLimitConfiguration(display_name=f"{tag} {n}", limit=n))
        page = await configs.get(
            RequestConfiguration(
                query_parameters=ListQuery(
                    filter=f"startswith(displayName,'{tag}')",
                    orderby=["displayName desc"],
                    select=["id", "displayName"],
                    count=True,
                )
            )
        )
        assert [c.display_name for c in page.value] == [f"{tag} 3", f"{tag} 2", f"{tag} 1"]
        assert all(type(c) is DeviceEnrollmentLimitConfiguration and c.limit is None for c in page.value)
        assert page.odata_count == 3

        everything = await configs.get()
        assert isinstance(everything, DeviceEnrollmentConfigurationCollectionResponse)
        kinds = {type(c) for c in everything.value}
        assert {
            DeviceEnrollmentLimitConfiguration,
            DeviceEnrollmentPlatformRestrictionsConfiguration,
            DeviceEnrollmentWindowsHelloForBusinessConfiguration,
            Windows10EnrollmentCompletionPageConfiguration,
        } <= kinds
        assert await configs.count.get() == len(everything.value)

    run(go())


def test_paging_with_page_iterator(run, client, configs):
    async def go():
        for n in range(4):
            await configs.post(DeviceEnrollmentLimitConfiguration(display_name=f"page {n}", limit=n + 1))
        total = await configs.count.get()
        first = await configs.get(RequestConfiguration(query_parameters=ListQuery(top=3)))
        assert len(first.value) == 3 and first.odata_next_link.startswith("http")
        seen = []

        def collect(item):
            seen.append(item.id)
            return True

        await PageIterator(first, client.request_adapter).iterate(collect)
        assert len(seen) == total == len(set(seen))

    run(go())


def test_assignments_assign_and_expand(run, configs):
    async def go():
        created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="v1 assignments", limit=3))
        item = configs.by_device_enrollment_configuration_id(created.id)
        gid = group()
        a = await item.assignments.post(EnrollmentConfigurationAssignment(target=GroupAssignmentTarget(group_id=gid)))
        assert type(a.target) is GroupAssignmentTarget and a.target.group_id == gid
        await item.assignments.post(EnrollmentConfigurationAssignment(target=AllLicensedUsersAssignmentTarget()))
        assert await item.assignments.count.get() == 2

        one = item.assignments.by_enrollment_configuration_assignment_id(a.id)
        assert await one.patch(EnrollmentConfigurationAssignment(target=ExclusionGroupAssignmentTarget(group_id=gid))) is None
        assert type((await one.get()).target) is ExclusionGroupAssignmentTarget
        only = await item.assignments.get(
            RequestConfiguration(query_parameters=AssignmentsQuery(filter=f"id eq '{a.id}'", select=["id", "target"]))
        )
        assert [x.id for x in only.value] == [a.id]

        expanded = await item.get(RequestConfiguration(query_parameters=ItemQuery(expand=["assignments"])))
        assert type(expanded) is DeviceEnrollmentLimitConfiguration
        assert sorted(type(x.target).__name__ for x in expanded.assignments) == [
            "AllLicensedUsersAssignmentTarget",
            "ExclusionGroupAssignmentTarget",
        ]

        assert await one.delete() is None
        assert await item.assignments.count.get() == 1

        assert await item.assign.post(
            AssignPostRequestBody(
                enrollment_configuration_assignments=[EnrollmentConfigurationAssignment(target=AllDevicesAssignmentTarget())]
            )
        ) is None
        listed = await item.assignments.get()
        assert [type(x.target) for x in listed.value] == [AllDevicesAssignmentTarget]

    run(go())


def test_set_priority(run, configs):
    async def go():
        first = await configs.post(DeviceEnrollmentWindowsHelloForBusinessConfiguration(display_name="v1 prio a"))
        second = await configs.post(DeviceEnrollmentWindowsHelloForBusinessConfiguration(display_name="v1 prio b"))
        assert second.priority == first.priority + 1
        item = configs.by_device_enrollment_configuration_id(second.id)
        assert await item.set_priority.post(SetPriorityPostRequestBody(priority=first.priority)) is None
        assert (await item.get()).priority == first.priority
        assert (await configs.by_device_enrollment_configuration_id(first.id).get()).priority == first.priority + 1

    run(go())


def test_errors_and_headers(run, configs, base_url, read_token):
    async def go():
        with pytest.raises(ODataError) as err:
            await configs.by_device_enrollment_configuration_id(f"{uuid.uuid4()}_Limit").get()
        assert err.value.response_status_code == 404 and err.value.error.code == "ResourceNotFound"

        # A beta-only property is unknown on v1.0.
        with pytest.raises(ODataError) as err:
            await configs.post(
                DeviceEnrollmentLimitConfiguration(display_name="x", additional_data={"roleScopeTagIds": ["0"]})
            )
        assert err.value.response_status_code == 400 and "roleScopeTagIds" in err.value.error.message

        reader = make_client(msgraph, f"{base_url}/v1.0", read_token).device_management.device_enrollment_configurations
        with pytest.raises(ODataError) as err:
            await reader.post(DeviceEnrollmentLimitConfiguration(display_name="read only", limit=1))
        assert err.value.response_status_code == 403 and err.value.error.code == "Forbidden"

        sent = str(uuid.uuid4())
        config, option = inspect_headers(
            query_parameters=ListQuery(top=1), headers={"client-request-id": sent, "Retry-Attempt": "2"}
        )
        await configs.get(config)
        assert response_header(option, "client-request-id") == sent
        assert response_header(option, "odata-version") == "4.0"

    run(go())


def test_batch(run, client, configs):
    async def go():
        adapter = client.request_adapter
        created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="v1 batch", limit=2))
        item = configs.by_device_enrollment_configuration_id(created.id)

        def batch_item(info: RequestInformation) -> BatchRequestItem:
            # Graph wants relative URLs; msgraph-core keeps absolute ones (msgraph-sdk-python#1015).
            it = BatchRequestItem(request_information=info)
            it.url = it.url.removeprefix(adapter.base_url)
            return it

        get_item = batch_item(item.to_get_request_information())
        assign_item = batch_item(
            item.assign.to_post_request_information(
                AssignPostRequestBody(
                    enrollment_configuration_assignments=[
                        EnrollmentConfigurationAssignment(target=GroupAssignmentTarget(group_id=group()))
                    ]
                )
            )
        )
        delete_item = batch_item(
            configs.by_device_enrollment_configuration_id(f"{uuid.uuid4()}_Limit").to_delete_request_information()
        )
        content = BatchRequestContent()
        for it in (get_item, assign_item, delete_item):
            content.add_request(it.id, it)
        response = await client.batch.post(batch_request_content=content)
        assert response.get_response_status_codes() == {get_item.id: 200, assign_item.id: 204, delete_item.id: 404}
        assert await item.assignments.count.get() == 1

        # The bodies, read with the SDK's parse nodes (msgraph-core drops JSON bodies: kiota-python#737).
        info = await client.batch.to_post_request_information(content)
        raw = json.loads(await adapter.send_primitive_async(info, "bytes", {"XXX": ODataError}))
        bodies = {r["id"]: r.get("body") for r in raw["responses"]}
        got = JsonParseNode(bodies[get_item.id]).get_object_value(DeviceEnrollmentConfiguration)
        assert type(got) is DeviceEnrollmentLimitConfiguration and got.id == created.id
        assert JsonParseNode(bodies[delete_item.id]).get_object_value(ODataError).error.code == "ResourceNotFound"

    run(go())
