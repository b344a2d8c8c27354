"""End to end: Microsoft's Python Graph SDK with azure-identity, unchanged, reaches enrollgraph
as https://graph.microsoft.com and https://login.microsoftonline.com through HTTPS_PROXY.

The SDK keeps its default base URL (https://graph.microsoft.com/beta); the only changes are the
environment: HTTPS_PROXY points at `enrollgraph serve --proxy`, and the CA printed by
`enrollgraph ca` is trusted (SSL_CERT_FILE for httpx, REQUESTS_CA_BUNDLE for azure-identity).

Environment: ENROLLGRAPH_TENANT_ID, ENROLLGRAPH_CLIENT_ID, ENROLLGRAPH_CLIENT_SECRET; with
ENROLLGRAPH_BIN and ENROLLGRAPH_DATA_DIR (the proxy server's), a second application registered
with a certificate signs in with azure-identity's CertificateCredential as well.
"""

import asyncio
import datetime
import json
import os
import subprocess
import sys
import tempfile

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


async def certificate_credential() -> None:
    """An application registered with a certificate; MSAL signs a client assertion with its key."""
    from azure.identity import CertificateCredential
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "enrollgraph e2e client")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as d:
        cert_path = os.path.join(d, "cert.pem")
        both_path = os.path.join(d, "key-and-cert.pem")
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with open(cert_path, "wb") as f:
            f.write(cert_pem)
        with open(both_path, "wb") as f:
            f.write(key_pem + cert_pem)
        out = subprocess.run(
            [os.environ["ENROLLGRAPH_BIN"], "app", "add", "--data-dir", os.environ["ENROLLGRAPH_DATA_DIR"],
             "--tenant", os.environ["ENROLLGRAPH_TENANT_ID"], "--name", "certificate e2e",
             "--certificate", cert_path],
            check=True, capture_output=True, text=True,
        )
        app = json.loads(out.stdout)
        assert app["clientSecret"] is None and app["certificate"] is True, app
        credential = CertificateCredential(app["tenantId"], app["clientId"], certificate_path=both_path)
        client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
        page = await client.device_management.device_enrollment_configurations.get()
        assert any(c.display_name == "through the proxy" for c in page.value), [c.display_name for c in page.value]
        print("proxy e2e: certificate credential of", app["clientId"], "listed", len(page.value), "configurations")


if __name__ == "__main__":
    asyncio.run(main())
    if os.environ.get("ENROLLGRAPH_BIN"):
        asyncio.run(certificate_credential())
    sys.exit(0)
