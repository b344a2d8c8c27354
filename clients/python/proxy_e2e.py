"""End to end: Microsoft's Python Graph SDK with azure-identity, unchanged, reaches enrollgraph
as https://graph.microsoft.com and https://login.microsoftonline.com through HTTPS_PROXY.

The SDK keeps its default base URL (https://graph.microsoft.com/beta); the only changes are the
environment: HTTPS_PROXY points at `enrollgraph serve --proxy`, and the CA printed by
`enrollgraph ca` is trusted (SSL_CERT_FILE for httpx, REQUESTS_CA_BUNDLE for azure-identity).

Environment: ENROLLGRAPH_TENANT_ID, ENROLLGRAPH_CLIENT_ID, ENROLLGRAPH_CLIENT_SECRET.
"""

import asyncio
import os
import sys

from azure.identity import ClientSecretCredential
from msgraph_beta import GraphServiceClient
from msgraph_beta.generated.models.device_enrollment_limit_configuration import (
    DeviceEnrollmentLimitConfiguration,
)
from msgraph_beta.generated.models.enrollment_configuration_assignment import (
    EnrollmentConfigurationAssignment,
)
from msgraph_beta.generated.models.group_assignment_target import GroupAssignmentTarget


async def main() -> None:
    assert os.environ.get("HTTPS_PROXY"), "HTTPS_PROXY must point at enrollgraph serve --proxy"
    credential = ClientSecretCredential(
        os.environ["ENROLLGRAPH_TENANT_ID"],
        os.environ["ENROLLGRAPH_CLIENT_ID"],
        os.environ["ENROLLGRAPH_CLIENT_SECRET"],
    )
    client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
    assert client.request_adapter.base_url.rstrip("/") == "https://graph.microsoft.com/beta", client.request_adapter.base_url

    configs = client.device_management.device_enrollment_configurations
    created = await configs.post(DeviceEnrollmentLimitConfiguration(display_name="through the proxy", limit=4))
    assert isinstance(created, DeviceEnrollmentLimitConfiguration), type(created)
    assert created.id and created.id.endswith("_Limit"), created.id
    assert created.priority == 1 and created.limit == 4

    item = configs.by_device_enrollment_configuration_id(created.id)
    assignment = await item.assignments.post(
        EnrollmentConfigurationAssignment(target=GroupAssignmentTarget(group_id="e2e-group"))
    )
    assert assignment.id, assignment

    back = await item.get()
    assert isinstance(back, DeviceEnrollmentLimitConfiguration) and back.display_name == "through the proxy"
    listed = await item.assignments.get()
    assert [a.id for a in listed.value] == [assignment.id]
    assert isinstance(listed.value[0].target, GroupAssignmentTarget)
    assert listed.value[0].target.group_id == "e2e-group"
    print("proxy e2e: created", created.id, "and assignment", assignment.id, "through", os.environ["HTTPS_PROXY"])


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
