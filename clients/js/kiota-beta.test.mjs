// The kiota-based @microsoft/msgraph-beta-sdk, unchanged, against enrollgraph's /beta over plain
// HTTP: a static bearer token, `adapter.baseUrl` set explicitly, the fluent API for
// deviceEnrollmentConfigurations registered by ./deviceManagement.mjs, msgraph-sdk-core's
// PageIterator for paging.
//
// Environment (set by clients/run.sh): ENROLLGRAPH_URL (http://127.0.0.1:PORT), ENROLLGRAPH_TOKEN.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";

import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  ParseNodeFactoryRegistry,
  SerializationWriterFactoryRegistry,
} from "@microsoft/kiota-abstractions";
import { HeadersInspectionOptions } from "@microsoft/kiota-http-fetchlibrary";
import { createGraphBetaServiceClient, GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk";
import { createDeviceEnrollmentConfigurationCollectionResponseFromDiscriminatorValue } from "@microsoft/msgraph-beta-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js";
import { PageIterator } from "@microsoft/msgraph-sdk-core";

import "./deviceManagement.mjs";

// This SDK's serializers drop the properties of a derived type when it is written through its
// base type (microsoft/kiota#6777): `limit` of a limit configuration, `groupId` of a group
// target. Kiota writes `additionalData` as is, so the derived properties go there; the same
// workaround is needed against Graph itself. Reading is not affected: responses come back as the
// derived types with all their properties.

const base = process.env.ENROLLGRAPH_URL;
const token = process.env.ENROLLGRAPH_TOKEN;

/** Hands the SDK the token printed by `enrollgraph token`. */
class StaticToken {
  constructor(value) {
    this.value = value;
  }
  async getAuthorizationToken() {
    return this.value;
  }
  getAllowedHostsValidator() {
    return new AllowedHostsValidator(new Set()); // an empty set allows every host
  }
}

function makeClient() {
  const auth = new BaseBearerTokenAuthenticationProvider(new StaticToken(token));
  // GraphBetaRequestAdapter's default factory arguments name classes it does not import
  // (1.0.0-preview.81), so the two registries are passed in.
  const adapter = new GraphBetaRequestAdapter(auth, new ParseNodeFactoryRegistry(), new SerializationWriterFactoryRegistry());
  adapter.baseUrl = `${base}/beta`;
  return { adapter, client: createGraphBetaServiceClient(adapter) };
}

describe("kiota beta SDK", () => {
  let adapter;
  let configs;
  before(() => {
    assert.ok(base && token, "run through clients/run.sh (ENROLLGRAPH_URL, ENROLLGRAPH_TOKEN)");
    const made = makeClient();
    adapter = made.adapter;
    configs = made.client.deviceManagement.deviceEnrollmentConfigurations;
  });

  test("create, assign, setPriority, page through, delete, 404", async () => {
    // The kiota serializer writes explicit nulls for properties set to null.
    const first = await configs.post({
      odataType: "#microsoft.graph.deviceEnrollmentLimitConfiguration",
      displayName: "kiota one",
      description: null,
      additionalData: { limit: 3 },
    });
    assert.equal(first.odataType, "#microsoft.graph.deviceEnrollmentLimitConfiguration");
    assert.ok(first.id.endsWith("_Limit"));
    assert.equal(first.limit, 3);
    assert.ok(first.createdDateTime instanceof Date);
    const second = await configs.post({
      odataType: "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration",
      displayName: "kiota two",
      description: null,
      additionalData: { pinMinimumLength: 6 },
    });
    assert.equal(second.odataType, "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration");
    const third = await configs.post({
      odataType: "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration",
      displayName: "kiota three",
    });

    const item = configs.byDeviceEnrollmentConfigurationId(first.id);
    const groupId = randomUUID();
    await item.assign.post({
      enrollmentConfigurationAssignments: [
        { target: { odataType: "#microsoft.graph.groupAssignmentTarget", additionalData: { groupId } } },
        { target: { odataType: "#microsoft.graph.allDevicesAssignmentTarget" } },
      ],
    });
    const assignments = await item.assignments.get();
    assert.deepEqual(
      assignments.value.map((a) => a.target.odataType).sort(),
      ["#microsoft.graph.allDevicesAssignmentTarget", "#microsoft.graph.groupAssignmentTarget"],
    );
    assert.equal(assignments.value.find((a) => a.target.groupId).target.groupId, groupId);
    assert.equal(await item.assignments.count.get(), 2);

    const added = await item.assignments.post({
      target: { odataType: "#microsoft.graph.exclusionGroupAssignmentTarget", additionalData: { groupId: randomUUID() } },
    });
    await item.assignments.byEnrollmentConfigurationAssignmentId(added.id).delete();

    const expanded = await item.get({ queryParameters: { expand: ["assignments"] } });
    assert.equal(expanded.assignments.length, 2);
    assert.ok(expanded.assignments.every((a) => a.odataType === "#microsoft.graph.enrollmentConfigurationAssignment"));

    await configs.byDeviceEnrollmentConfigurationId(third.id).setPriority.post({ priority: second.priority });
    const moved = await configs.byDeviceEnrollmentConfigurationId(third.id).get({ queryParameters: { select: ["id", "priority"] } });
    assert.equal(moved.priority, second.priority);
    assert.equal(moved.odataType, "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration");

    await configs.byDeviceEnrollmentConfigurationId(second.id).patch({
      odataType: "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration",
      description: null,
      additionalData: { pinMinimumLength: 8 },
    });
    assert.equal((await configs.byDeviceEnrollmentConfigurationId(second.id).get()).pinMinimumLength, 8);

    // Paging with msgraph-sdk-core's PageIterator, which follows each @odata.nextLink as-is.
    const total = await configs.count.get();
    const firstPage = await configs.get({ queryParameters: { top: 2 } });
    assert.match(firstPage.odataNextLink, /^http:\/\//);
    const seen = [];
    const iterator = new PageIterator(
      adapter,
      firstPage,
      (c) => {
        assert.ok(c.odataType, `list item ${c.id} has an @odata.type`);
        seen.push(c.id);
        return true;
      },
      createDeviceEnrollmentConfigurationCollectionResponseFromDiscriminatorValue,
      { XXX: createODataErrorFromDiscriminatorValue },
    );
    await iterator.iterate();
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);

    for (const c of [first, second, third]) {
      await configs.byDeviceEnrollmentConfigurationId(c.id).delete();
    }
    await assert.rejects(item.get(), (err) => {
      assert.equal(err.responseStatusCode, 404);
      assert.equal(err.errorEscaped?.code, "ResourceNotFound");
      return true;
    });
  });

  test("errors carry Graph's code; headers clients rely on", async () => {
    await assert.rejects(
      configs.byDeviceEnrollmentConfigurationId(`${randomUUID()}_Limit`).setPriority.post({ priority: 1 }),
      (err) => {
        assert.equal(err.responseStatusCode, 404);
        assert.equal(err.errorEscaped?.code, "ResourceNotFound");
        return true;
      },
    );
    // A null for a property that is not nullable is Graph's 400.
    const limitNull = { odataType: "#microsoft.graph.deviceEnrollmentLimitConfiguration", additionalData: { limit: null } };
    await assert.rejects(configs.post(limitNull), (err) => {
      assert.equal(err.responseStatusCode, 400);
      assert.equal(err.errorEscaped?.code, "BadRequest");
      assert.match(err.errorEscaped?.message, /limit/);
      return true;
    });

    const inspect = new HeadersInspectionOptions({ inspectResponseHeaders: true });
    const id = randomUUID();
    const page = await configs.get({
      headers: { "client-request-id": id, "Retry-Attempt": "1", Accept: "*/*" },
      options: [inspect],
      queryParameters: { top: 1 },
    });
    assert.equal(page.value.length, 1);
    const headers = inspect.getResponseHeaders();
    assert.deepEqual([...headers.get("client-request-id")], [id]);
    assert.match([...headers.get("content-type")][0], /^application\/json/);
  });
});
