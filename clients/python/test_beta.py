"""Microsoft's beta Python SDK (msgraph-beta-sdk), unchanged, against enrollgraph's /beta.

Every endpoint and action of the area goes through the SDK's typed request builders and models:
derived types must come back as their own classes, paging goes through msgraph-core's
PageIterator, errors surface as the SDK's ODataError, and $batch through its batch support.
"""

import json
import uuid

import msgraph_beta
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph_beta.generated.device_management.device_enrollment_configurations.create_enrollment_notification_configuration.create_enrollment_notification_configuration_post_request_body import (
    CreateEnrollmentNotificationConfigurationPostRequestBody,
)
from msgraph_beta.generated.device_management.device_enrollment_configurations.device_enrollment_configurations_request_builder import (
    DeviceEnrollmentConfigurationsRequestBuilder,
)
from msgraph_beta.generated.device_management.device_enrollment_configurations.has_payload_links.has_payload_links_post_request_body import (
    HasPayloadLinksPostRequestBody,
)
from msgraph_beta.generated.device_management.device_enrollment_configurations.item.assign.assign_post_request_body import (
    AssignPostRequestBody,
)
from msgraph_beta.generated.device_management.device_enrollment_configurations.item.assignments.assignments_request_builder import (
    AssignmentsRequestBuilder,
)
from msgraph_beta.generated.device_management.device_enrollment_configurations.item.device_enrollment_configuration_item_request_builder import (
    DeviceEnrollmentConfigurationItemRequestBuilder,
)
from msgraph_beta.generated.device_management.device_enrollment_configurations.item.set_priority.set_priority_post_request_body import (
    SetPriorityPostRequestBody,
)
from msgraph_beta.generated.models.all_devices_assignment_target import AllDevicesAssignmentTarget
from msgraph_beta.generated.models.all_licensed_users_assignment_target import (
    AllLicensedUsersAssignmentTarget,
)
from msgraph_beta.generated.models.device_comanagement_authority_configuration import (
    DeviceComanagementAuthorityConfiguration,
)
from msgraph_beta.generated.models.device_enrollment_configuration import DeviceEnrollmentConfiguration
from msgraph_beta.generated.models.device_enrollment_configuration_collection_response import (
    DeviceEnrollmentConfigurationCollectionResponse,
)
from msgraph_beta.generated.models.device_enrollment_limit_configuration import (
    DeviceEnrollmentLimitConfiguration,
)
from msgraph_beta.generated.models.device_enrollment_notification_configuration import (
    DeviceEnrollmentNotificationConfiguration,
)
from msgraph_beta.generated.models.device_enrollment_platform_restriction import (
    DeviceEnrollmentPlatformRestriction,
)
from msgraph_beta.generated.models.device_enrollment_platform_restriction_configuration import (
    DeviceEnrollmentPlatformRestrictionConfiguration,
)
from msgraph_beta.generated.models.device_enrollment_platform_restrictions_configuration import (
    DeviceEnrollmentPlatformRestrictionsConfiguration,
)
from msgraph_beta.generated.models.device_enrollment_windows_hello_for_business_configuration import (
    DeviceEnrollmentWindowsHelloForBusinessConfiguration,
)
from msgraph_beta.generated.models.enablement import Enablement
from msgraph_beta.generated.models.enrollment_configuration_assignment import (
    EnrollmentConfigurationAssignment,
)
from msgraph_beta.generated.models.enrollment_notification_template_type import (
    EnrollmentNotificationTemplateType,
)
from msgraph_beta.generated.models.enrollment_restriction_platform_type import (
    EnrollmentRestrictionPlatformType,
)
from msgraph_beta.generated.models.exclusion_group_assignment_target import (
    ExclusionGroupAssignmentTarget,
)
from msgraph_beta.generated.models.group_assignment_target import GroupAssignmentTarget
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.windows10_enrollment_completion_page_configuration import (
    Windows10EnrollmentCompletionPageConfiguration,
)
from msgraph_beta.generated.models.windows_restore_device_enrollment_configuration import (
    WindowsRestoreDeviceEnrollmentConfiguration,
)
from kiota_serialization_json.json_parse_node import JsonParseNode
from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem
from msgraph_core.tasks.page_iterator import PageIterator

from conftest import inspect_headers, make_client, response_header

ListQuery = DeviceEnrollmentConfigurationsRequestBuilder.DeviceEnrollmentConfigurationsRequestBuilderGetQueryParameters
ItemQuery = DeviceEnrollmentConfigurationItemRequestBuilder.DeviceEnrollmentConfigurationItemRequestBuilderGetQueryParameters
AssignmentsQuery = AssignmentsRequestBuilder.AssignmentsRequestBuilderGetQueryParameters


@pytest.fixture
def client(base_url, token):
    return make_client(msgraph_beta, f"{base_url}/beta", token)


@pytest.fixture
def configs(client):
    return client.device_management.device_enrollment_configurations


def group() -> str:
    return str(uuid.uuid4())


# One body per concrete kind the beta SDK knows, with a setting of its own.
KINDS = [
    (DeviceEnrollmentLimitConfiguration, "_Limit", dict(limit=7)),
    (
        DeviceEnrollmentPlatformRestrictionsConfiguration,
        "_PlatformRestrictions",
        dict(ios_restriction=DeviceEnrollmentPlatformRestriction(platform_blocked=True)),
    ),
    (
        DeviceEnrollmentPlatformRestrictionConfiguration,
        "_SinglePlatformRestriction",
        dict(
            platform_type=EnrollmentRestrictionPlatformType.Android,
            platform_restriction=DeviceEnrollmentPlatformRestriction(personal_device_enrollment_blocked=True),
        ),
    ),
    (
        DeviceEnrollmentWindowsHelloForBusinessConfiguration,
        "_WindowsHelloForBusiness",
        dict(state=Enablement.Enabled, pin_minimum_length=8),
    ),
    (
        Windows10EnrollmentCompletionPageConfiguration,
        "_Windows10EnrollmentCompletionPageConfiguration",
        dict(show_installation_progress=True, install_progress_timeout_in_minutes=45),
    ),
    (
        DeviceComanagementAuthorityConfiguration,
        "_DeviceComanagementAuthorityConfiguration",
        dict(managed_device_authority=2, install_configuration_manager_agent=True),
    ),
    (
        DeviceEnrollmentNotificationConfiguration,
        "_EnrollmentNotificationsConfiguration",
        dict(template_type=EnrollmentNotificationTemplateType.Push, platform_type=EnrollmentRestrictionPlatformType.Ios),
    ),
    (WindowsRestoreDeviceEnrollmentConfiguration, "_WindowsRestore", dict(state=Enablement.Enabled)),
]


@pytest.mark.parametrize("cls,suffix,settings", KINDS, ids=[k[0].__name__ for k in KINDS])
def test_create_get_patch_delete_every_kind(run, configs, cls, suffix, settings):
    async def go():
        created = await configs.post(cls(display_name=f"py {cls.__name__}", description="from the beta SDK", **settings))
        assert type(created) is cls
        assert created.id.endswith(suffix), created.id
        assert created.priority >= 1 and created.version == 1
        for name, value in settings.items():
            got = getattr(created, name)
            if isinstance(value, DeviceEnrollmentPlatformRestriction):
                for field in ("platform_blocked", "personal_device_enrollment_blocked"):
                    if getattr(value, field):
                        assert getattr(got, field) is True
            else:
                assert got == value, (name, got, value)

        item = configs.by_device_enrollment_configuration_id(created.id)
        back = await item.get()
        assert type(back) is cls and back.id == created.id and back.display_name == created.display_name

        # PATCH answers 204: the SDK returns None.
        assert await item.patch(cls(display_name="renamed", description=None)) is None
        back = await item.get()
        assert back.display_name == "renamed" and back.version == 2

        assert await item.delete() is None
        with pytest.raises(ODataError) as err:
            await item.get()
        assert err.value.response_status_code == 404
        assert err.value.error.code == "ResourceNotFound"

    run(go())


def test_list_returns_typed_derived_classes(run, configs):
    async def go():
        page = await configs.get()
        assert isinstance(page, DeviceEnrollmentConfigurationCollectionResponse)
        defaults = {c.id.split("_", 1)[1]: c for c in page.value if c.priority == 0}
        assert type(defaults["DefaultLimit"]) is DeviceEnrollmentLimitConfiguration
        assert defaults["DefaultLimit"].limit == 5
        assert type(defaults["DefaultPlatformRestrictions"]) is DeviceEnrollmentPlatformRestrictionsConfiguration
        assert defaults["DefaultPlatformRestrictions"].windows_mobile_restriction.platform_blocked is True
        assert type(defaults["DefaultWindowsHelloForBusiness"]) is DeviceEnrollmentWindowsHelloForBusinessConfiguration
        assert (
            type(defaults["DefaultWindows10EnrollmentCompletionPageConfiguration"])
            is Windows10EnrollmentCompletionPageConfiguration
        )
        assert type(defaults["WindowsRestore"]) is WindowsRestoreDeviceEnrollmentConfiguration

    run(go())


def test_query_options_through_typed_parameters(run, configs):
    async def go():
        tag = uuid.uuid4().hex[:8]
        for n in (3, 4):
            await configs.post(DeviceEnrollmentLimitConfiguration(display_name=f"{tag} {n}", limit=n))
        query = ListQuery(
            filter=f"isof('microsoft.graph.deviceEnrollmentLimitConfiguration') and startswith(displayName,'{tag} ')",
            select=["id", "displayName", "priority"],
            orderby=["displayName desc"],
            count=True,
        )
        page = await configs.get(RequestConfiguration(query_parameters=query))
        assert [c.display_name for c in page.value] == [f"{tag} 4", f"{tag} 3"]
        # $select results keep their @odata.type, so they are still the derived class.
        assert all(type(c) is DeviceEnrollmentLimitConfiguration for c in page.value)
        assert all(c.limit is None and c.description is None for c in page.value)
        assert page.odata_count == 2

        found = await configs.get(RequestConfiguration(query_parameters=ListQuery(search=f'"{tag} 4"', top=5)))
        assert [c.display_name for c in found.value] == [f"{tag} 4"]

        skipped = await configs.get(RequestConfiguration(query_parameters=ListQuery(orderby=["id"], skip=1, top=1)))
        everything = await configs.get(RequestConfiguration(query_parameters=ListQuery(orderby=["id"])))
        assert skipped.value[0].id == everything.value[1].id

    run(go())


def test_count(run, configs):
    async def go():
        total = await configs.count.get()
        assert isinstance(total, int)
        page = await configs.get()
        assert total == len(page.value)
        limits = await configs.count.get(
            RequestConfiguration(
                query_parameters=configs.count.CountRequestBuilderGetQueryParameters(
                    filter="isof('microsoft.graph.deviceEnrollmentLimitConfiguration')"
                )
            )
        )
        assert limits == sum(1 for c in page.value if isinstance(c, DeviceEnrollmentLimitConfiguration))

    run(go())


def test_paging_with_page_iterator(run, client, configs):
    async def go():
        for n in range(5):
            await configs.post(DeviceEnrollmentWindowsHelloForBusinessConfiguration(display_name=f"paged {n}"))
        expected = await configs.count.get()
        first = await configs.get(RequestConfiguration(query_parameters=ListQuery(top=2)))
        assert len(first.value) == 2
        # The nextLink is absolute and the SDK follows it as-is.
        assert first.odata_next_link.startswith("http://"), first.odata_next_link
        seen = []

        def collect(item):
            seen.append(item)
            return True

        iterator = PageIterator(first, client.request_adapter)
        await iterator.iterate(collect)
        assert len(seen) == expected
        assert len({c.id for c in seen}) == expected
        assert all(isinstance(c, DeviceEnrollmentConfiguration) and c.odata_type for c in seen)
        assert any(type(c) is DeviceEnrollmentWindowsHelloForBusinessConfiguration for c in seen)

    run(go())


def test_expand_assignments_are_typed(run, configs):
    async def go():
        created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="expand", limit=2))
        item = configs.by_device_enrollment_configuration_id(created.id)
        gid = group()
        await item.assignments.post(EnrollmentConfigurationAssignment(target=GroupAssignmentTarget(group_id=gid)))
        await item.assignments.post(EnrollmentConfigurationAssignment(target=AllLicensedUsersAssignmentTarget()))

        back = await item.get(RequestConfiguration(query_parameters=ItemQuery(expand=["assignments"])))
        assert type(back) is DeviceEnrollmentLimitConfiguration
        targets = sorted(type(a.target).__name__ for a in back.assignments)
        assert targets == ["AllLicensedUsersAssignmentTarget", "GroupAssignmentTarget"]
        assert all(type(a) is EnrollmentConfigurationAssignment for a in back.assignments)

        listed = await configs.get(
            RequestConfiguration(query_parameters=ListQuery(filter=f"id eq '{created.id}'", expand=["assignments"]))
        )
        assert [len(c.assignments) for c in listed.value] == [2]
        group_targets = [a.target for a in listed.value[0].assignments if isinstance(a.target, GroupAssignmentTarget)]
        assert [t.group_id for t in group_targets] == [gid]

        selected = await item.get(RequestConfiguration(query_parameters=ItemQuery(select=["id", "priority"])))
        assert type(selected) is DeviceEnrollmentLimitConfiguration and selected.display_name is None

    run(go())


def test_assignments_endpoints(run, configs):
    async def go():
        created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="assignments", limit=2))
        assignments = configs.by_device_enrollment_configuration_id(created.id).assignments
        gid = group()
        a = await assignments.post(EnrollmentConfigurationAssignment(target=GroupAssignmentTarget(group_id=gid)))
        assert type(a) is EnrollmentConfigurationAssignment and type(a.target) is GroupAssignmentTarget
        assert a.target.group_id == gid
        b = await assignments.post(EnrollmentConfigurationAssignment(target=AllDevicesAssignmentTarget()))

        assert await assignments.count.get() == 2
        listed = await assignments.get()
        assert sorted(x.id for x in listed.value) == sorted([a.id, b.id])

        one = assignments.by_enrollment_configuration_assignment_id(a.id)
        got = await one.get()
        assert got.id == a.id and type(got.target) is GroupAssignmentTarget

        other = group()
        assert await one.patch(EnrollmentConfigurationAssignment(target=ExclusionGroupAssignmentTarget(group_id=other))) is None
        got = await one.get()
        assert type(got.target) is ExclusionGroupAssignmentTarget and got.target.group_id == other

        filtered = await assignments.get(
            RequestConfiguration(
                query_parameters=AssignmentsQuery(
                    filter="isof(target, 'microsoft.graph.exclusionGroupAssignmentTarget')", select=["id", "target"]
                )
            )
        )
        assert [x.id for x in filtered.value] == [a.id]
        paged = await assignments.get(RequestConfiguration(query_parameters=AssignmentsQuery(top=1)))
        assert len(paged.value) == 1 and paged.odata_next_link

        assert await one.delete() is None
        assert await assignments.count.get() == 1
        with pytest.raises(ODataError) as err:
            await one.get()
        assert err.value.response_status_code == 404 and err.value.error.code == "ResourceNotFound"

    run(go())


def test_assign_replaces_every_assignment(run, configs):
    async def go():
        created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="assign", limit=2))
        item = configs.by_device_enrollment_configuration_id(created.id)
        await item.assignments.post(EnrollmentConfigurationAssignment(target=AllDevicesAssignmentTarget()))
        gids = [group(), group()]
        body = AssignPostRequestBody(
            enrollment_configuration_assignments=[
                EnrollmentConfigurationAssignment(target=GroupAssignmentTarget(group_id=g)) for g in gids
            ]
        )
        assert await item.assign.post(body) is None
        listed = await item.assignments.get()
        assert sorted(x.target.group_id for x in listed.value) == sorted(gids)
        await item.assign.post(AssignPostRequestBody(enrollment_configuration_assignments=[]))
        assert (await item.assignments.get()).value == []

    run(go())


def test_set_priority(run, configs):
    async def go():
        made = [
            await configs.post(DeviceComanagementAuthorityConfiguration(display_name=f"prio {n}")) for n in range(3)
        ]
        last = made[-1]
        assert last.priority == made[0].priority + 2
        assert await configs.by_device_enrollment_configuration_id(last.id).set_priority.post(
            SetPriorityPostRequestBody(priority=made[0].priority)
        ) is None
        after = [await configs.by_device_enrollment_configuration_id(m.id).get() for m in made]
        assert [a.priority for a in after] == [made[0].priority + 1, made[0].priority + 2, made[0].priority]

        with pytest.raises(ODataError) as err:
            await configs.by_device_enrollment_configuration_id(last.id).set_priority.post(
                SetPriorityPostRequestBody(priority=999)
            )
        assert err.value.response_status_code == 400 and err.value.error.code == "BadRequest"
        assert "between" in err.value.error.message

    run(go())


def test_create_enrollment_notification_configuration(run, configs):
    async def go():
        name = f"notify {uuid.uuid4()}"
        body = CreateEnrollmentNotificationConfigurationPostRequestBody(
            device_enrollment_notification_configurations=[
                DeviceEnrollmentNotificationConfiguration(
                    display_name=name, template_type=EnrollmentNotificationTemplateType.Email
                ),
                DeviceEnrollmentNotificationConfiguration(
                    display_name=name, template_type=EnrollmentNotificationTemplateType.Push
                ),
            ]
        )
        assert await configs.create_enrollment_notification_configuration.post(body) is None
        page = await configs.get(RequestConfiguration(query_parameters=ListQuery(filter=f"displayName eq '{name}'")))
        assert len(page.value) == 2
        assert all(type(c) is DeviceEnrollmentNotificationConfiguration for c in page.value)
        assert sorted(c.template_type for c in page.value) == sorted(
            [EnrollmentNotificationTemplateType.Email, EnrollmentNotificationTemplateType.Push]
        )

    run(go())


def test_has_payload_links(run, configs):
    async def go():
        ids = [str(uuid.uuid4()), str(uuid.uuid4())]
        result = await configs.has_payload_links.post(HasPayloadLinksPostRequestBody(payload_ids=ids))
        assert [r.payload_id for r in result.value] == ids
        assert all(r.has_link is False and r.error is None and r.sources == [] for r in result.value)

    run(go())


def test_errors_are_odata_errors(run, client, configs, base_url, read_token):
    async def go():
        missing = configs.by_device_enrollment_configuration_id(f"{uuid.uuid4()}_Limit")
        with pytest.raises(ODataError) as err:
            await missing.get()
        e = err.value
        assert e.response_status_code == 404 and e.error.code == "ResourceNotFound"
        assert e.error.inner_error is not None and e.error.inner_error.request_id
        with pytest.raises(ODataError) as err:
            await missing.assignments.get()
        assert err.value.error.code == "ResourceNotFound"

        with pytest.raises(ODataError) as err:
            await configs.post(DeviceEnrollmentLimitConfiguration(display_name="bad", additional_data={"limitt": 3}))
        assert err.value.response_status_code == 400 and "limitt" in err.value.error.message

        reader = make_client(msgraph_beta, f"{base_url}/beta", read_token).device_management.device_enrollment_configurations
        assert (await reader.get()).value
        with pytest.raises(ODataError) as err:
            await reader.post(DeviceEnrollmentLimitConfiguration(display_name="read only", limit=1))
        assert err.value.response_status_code == 403 and err.value.error.code == "Forbidden"

        unauthenticated = make_client(msgraph_beta, f"{base_url}/beta", "not-a-token").device_management
        with pytest.raises(ODataError) as err:
            await unauthenticated.device_enrollment_configurations.get()
        assert err.value.response_status_code == 401 and err.value.error.code == "InvalidAuthenticationToken"

    run(go())


def test_headers_clients_depend_on(run, configs):
    async def go():
        # client-request-id (sent by the SDK's telemetry handler) is echoed; Retry-Attempt is tolerated.
        sent = str(uuid.uuid4())
        config, option = inspect_headers(headers={"client-request-id": sent, "Retry-Attempt": "1"})
        page = await configs.get(config)
        assert page.value
        assert response_header(option, "client-request-id") == sent
        assert response_header(option, "content-type").startswith("application/json")

        # Accept: */* is as good as application/json.
        config, option = inspect_headers(headers={"Accept": "*/*"})
        config.headers.remove("Accept")
        config.headers.add("Accept", "*/*")
        assert (await configs.get(config)).value

        # Errors carry a JSON content type too.
        config, option = inspect_headers()
        with pytest.raises(ODataError):
            await configs.by_device_enrollment_configuration_id("nope").get(config)
        assert response_header(option, "content-type").startswith("application/json")

    run(go())


def test_percent_encoded_ids_are_decoded(run, client, configs, base_url):
    async def go():
        created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="encoded", limit=2))
        encoded = created.id.replace("_", "%5F").replace("-", "%2D")
        raw = f"{base_url}/beta/deviceManagement/deviceEnrollmentConfigurations/{encoded}"
        item = configs.by_device_enrollment_configuration_id(created.id).with_url(raw)
        back = await item.get()
        assert back.id == created.id
        # The SDK itself encodes what a key needs: a quote and a space reach the server as one id.
        with pytest.raises(ODataError) as err:
            await configs.by_device_enrollment_configuration_id("it's a key").get()
        assert err.value.response_status_code == 404

    run(go())


def batch_item(info: RequestInformation, adapter) -> BatchRequestItem:
    """A batch item from a request builder's RequestInformation, its URL made relative.

    msgraph-core keeps the absolute URL once the builder has sent a request (the adapter writes
    the base URL into the shared path parameters), and Graph refuses absolute URLs inside a batch
    (msgraph-sdk-python#1015, msgraph-sdk-python-core#1116): stripping the base URL is the
    documented workaround, the same against Graph and enrollgraph.
    """
    item = BatchRequestItem(request_information=info)
    item.url = item.url.removeprefix(adapter.base_url)
    return item


def test_batch(run, client, configs):
    async def go():
        adapter = client.request_adapter
        created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="batch", limit=2))
        item = configs.by_device_enrollment_configuration_id(created.id)
        get_item = batch_item(item.to_get_request_information(), adapter)
        post_item = batch_item(
            item.assignments.to_post_request_information(
                EnrollmentConfigurationAssignment(target=GroupAssignmentTarget(group_id=group()))
            ),
            adapter,
        )
        patch_item = batch_item(
            item.to_patch_request_information(DeviceEnrollmentLimitConfiguration(limit=9)), adapter
        )
        missing_item = batch_item(
            configs.by_device_enrollment_configuration_id("missing_Limit").to_get_request_information(), adapter
        )
        content = BatchRequestContent()
        for it in (get_item, post_item, patch_item, missing_item):
            content.add_request(it.id, it)
        assert all(it.url.startswith("/deviceManagement/") for it in content.requests.values())

        response = await BatchRequestBuilder(adapter).post(content)
        assert response.get_response_status_codes() == {
            get_item.id: 200,
            post_item.id: 201,
            patch_item.id: 204,
            missing_item.id: 404,
        }
        for it in (get_item, post_item, missing_item):
            headers = {k.lower(): v for k, v in response.get_response_by_id(it.id).headers.items()}
            assert headers["content-type"].startswith("application/json"), headers
        assert (await item.get()).limit == 9
        assert (await item.assignments.count.get()) == 1

        # msgraph-core reads JSON bodies of batch responses as base64 and loses them
        # (kiota-python#737); the same SDK-made batch sent through the adapter shows that each
        # body is a typed entity the SDK's own JSON parse nodes read.
        info = await BatchRequestBuilder(adapter).to_post_request_information(content)
        raw = await adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
        bodies = {r["id"]: r for r in json.loads(raw)["responses"]}
        got = JsonParseNode(bodies[get_item.id]["body"]).get_object_value(DeviceEnrollmentConfiguration)
        assert type(got) is DeviceEnrollmentLimitConfiguration and got.id == created.id and got.limit == 9
        made = JsonParseNode(bodies[post_item.id]["body"]).get_object_value(EnrollmentConfigurationAssignment)
        assert made.id and type(made.target) is GroupAssignmentTarget
        error = JsonParseNode(bodies[missing_item.id]["body"]).get_object_value(ODataError)
        assert error.error.code == "ResourceNotFound"

    run(go())


def test_raw_request_information_through_the_adapter(run, client, base_url):
    """A request the SDK has no builder for (a type-cast segment) still goes through its adapter."""

    async def go():
        info = RequestInformation(Method.GET)
        info.url = (
            f"{base_url}/beta/deviceManagement/deviceEnrollmentConfigurations/"
            "microsoft.graph.deviceEnrollmentLimitConfiguration"
        )
        info.headers.try_add("Accept", "application/json")
        page = await client.request_adapter.send_async(
            info, DeviceEnrollmentConfigurationCollectionResponse, {"XXX": ODataError}
        )
        assert page.value and all(type(c) is DeviceEnrollmentLimitConfiguration for c in page.value)

    run(go())
