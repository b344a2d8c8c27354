// @microsoft/microsoft-graph-client (the classic JavaScript client), unchanged, against enrollgraph.
//
// The classic client attaches its token only to HTTPS requests for Graph's hosts or the
// `customHosts` it is given, and follows nextLinks by parsing them as https:// URLs: so it talks
// to `enrollgraph serve --tls`, with the local CA trusted through NODE_EXTRA_CA_CERTS.
//
// Environment (set by clients/run.sh): ENROLLGRAPH_TLS_URL (https://127.0.0.1:PORT),
// ENROLLGRAPH_TLS_TOKEN, NODE_EXTRA_CA_CERTS.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";

import { Client, GraphError, PageIterator } from "@microsoft/microsoft-graph-client";

const base = process.env.ENROLLGRAPH_TLS_URL;
const token = process.env.ENROLLGRAPH_TLS_TOKEN;
const CONFIGS = "/deviceManagement/deviceEnrollmentConfigurations";

function client(version) {
  return Client.init({
    authProvider: (done) => done(null, token),
    baseUrl: `${base}/`,
    defaultVersion: version,
    customHosts: new Set([new URL(base).hostname]),
  });
}

describe("classic client, beta", () => {
  let graph;
  before(() => {
    assert.ok(base && token, "run through clients/run.sh (ENROLLGRAPH_TLS_URL, ENROLLGRAPH_TLS_TOKEN)");
    graph = client("beta");
  });

  test("create, assign, setPriority, page through, delete, 404", async () => {
    const made = [];
    for (const limit of [2, 3]) {
      const created = await graph.api(CONFIGS).post({
        "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
        displayName: `classic ${limit}`,
        description: null,
        limit,
      });
      assert.equal(created["@odata.type"], "#microsoft.graph.deviceEnrollmentLimitConfiguration");
      assert.ok(created.id.endsWith("_Limit"));
      assert.equal(created.limit, limit);
      assert.ok(Number.isInteger(created.priority) && Number.isInteger(created.version));
      made.push(created);
    }
    const [first, second] = made;

    const groupId = randomUUID();
    await graph.api(`${CONFIGS}/${first.id}/assign`).post({
      enrollmentConfigurationAssignments: [
        { target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId } },
      ],
    });
    const expanded = await graph.api(`${CONFIGS}/${first.id}`).expand("assignments").get();
    assert.equal(expanded.assignments.length, 1);
    assert.equal(expanded.assignments[0]["@odata.type"], "#microsoft.graph.enrollmentConfigurationAssignment");
    assert.equal(expanded.assignments[0].target.groupId, groupId);

    await graph.api(`${CONFIGS}/${second.id}/setPriority`).post({ priority: first.priority });
    const moved = await graph.api(`${CONFIGS}/${second.id}`).select(["id", "priority"]).get();
    assert.equal(moved.priority, first.priority);
    assert.equal(moved["@odata.type"], "#microsoft.graph.deviceEnrollmentLimitConfiguration");

    // PATCH with explicit nulls for nullable properties.
    await graph.api(`${CONFIGS}/${second.id}`).patch({
      "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
      description: null,
      limit: 8,
    });
    assert.equal((await graph.api(`${CONFIGS}/${second.id}`).get()).limit, 8);

    // Paging: the SDK's PageIterator follows every @odata.nextLink as-is.
    const total = await graph.api(`${CONFIGS}/$count`).get();
    const firstPage = await graph.api(CONFIGS).top(2).get();
    assert.match(firstPage["@odata.nextLink"], /^https:\/\//);
    const seen = [];
    const iterator = new PageIterator(graph, firstPage, (item) => {
      assert.ok(item["@odata.type"], `list item ${item.id} has an @odata.type`);
      seen.push(item.id);
      return true;
    });
    await iterator.iterate();
    assert.equal(seen.length, Number(total));
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.includes(first.id) && seen.includes(second.id));

    for (const { id } of made) {
      await graph.api(`${CONFIGS}/${id}`).delete();
    }
    await assert.rejects(graph.api(`${CONFIGS}/${first.id}`).get(), (err) => {
      assert.ok(err instanceof GraphError, `a GraphError, got ${err}`);
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, "ResourceNotFound");
      assert.ok(err.requestId);
      return true;
    });
  });

  test("an error body is parsed whatever the Accept header", async () => {
    for (const accept of ["*/*", "application/json"]) {
      await assert.rejects(
        graph.api(`${CONFIGS}/${randomUUID()}_Limit`).header("Accept", accept).header("Retry-Attempt", "1").get(),
        (err) => {
          assert.equal(err.statusCode, 404);
          assert.equal(err.code, "ResourceNotFound");
          return true;
        },
      );
    }
  });

  test("client-request-id is echoed", async () => {
    const id = randomUUID();
    const response = await graph
      .api(CONFIGS)
      .top(1)
      .header("client-request-id", id)
      .responseType("raw")
      .get();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("client-request-id"), id);
    assert.match(response.headers.get("content-type"), /^application\/json/);
  });
});

describe("classic client, v1.0", () => {
  test("create, assign, list, delete", async () => {
    const graph = client("v1.0");
    const created = await graph.api(CONFIGS).post({
      "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
      displayName: "classic v1.0",
      iosRestriction: { platformBlocked: true, osMinimumVersion: null },
    });
    assert.equal(created.iosRestriction.platformBlocked, true);
    assert.equal(created.roleScopeTagIds, undefined, "v1.0 writes no beta-only property");
    await graph.api(`${CONFIGS}/${created.id}/assign`).post({
      enrollmentConfigurationAssignments: [{ target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } }],
    });
    const assignments = await graph.api(`${CONFIGS}/${created.id}/assignments`).get();
    assert.deepEqual(
      assignments.value.map((a) => a.target["@odata.type"]),
      ["#microsoft.graph.allLicensedUsersAssignmentTarget"],
    );
    await graph.api(`${CONFIGS}/${created.id}`).delete();
  });
});
