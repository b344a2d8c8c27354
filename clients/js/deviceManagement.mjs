// The deviceManagement/deviceEnrollmentConfigurations part of the beta fluent API, for the
// kiota-based @microsoft/msgraph-beta-sdk.
//
// That package ships the client, the request adapter and every model (with their serializers and
// discriminator-aware factories); the request builders of each area are meant to come from a
// separate `@microsoft/msgraph-beta-sdk-<area>` package, and none is published for
// deviceManagement. This module registers, with the SDK's own `extendGraphBetaServiceClient`,
// the navigation and request metadata Kiota generates for these paths (same shape, same URI
// templates), so `client.deviceManagement.deviceEnrollmentConfigurations...` is the SDK's proxy
// machinery, models and adapter at work, nothing else.

import { extendGraphBetaServiceClient } from "@microsoft/msgraph-beta-sdk";
import {
  createDeviceEnrollmentConfigurationCollectionResponseFromDiscriminatorValue,
  createDeviceEnrollmentConfigurationFromDiscriminatorValue,
  createEnrollmentConfigurationAssignmentCollectionResponseFromDiscriminatorValue,
  createEnrollmentConfigurationAssignmentFromDiscriminatorValue,
  serializeDeviceEnrollmentConfiguration,
  serializeEnrollmentConfigurationAssignment,
} from "@microsoft/msgraph-beta-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js";

const errorMappings = { XXX: createODataErrorFromDiscriminatorValue };
const collectionQuery = {
  count: "%24count",
  expand: "%24expand",
  filter: "%24filter",
  orderby: "%24orderby",
  search: "%24search",
  select: "%24select",
  skip: "%24skip",
  top: "%24top",
};
const itemQuery = { expand: "%24expand", select: "%24select" };

const configs = "{+baseurl}/deviceManagement/deviceEnrollmentConfigurations";
const item = `${configs}/{deviceEnrollmentConfiguration%2Did}`;
const assignments = `${item}/assignments`;
const assignment = `${assignments}/{enrollmentConfigurationAssignment%2Did}`;

function json(uriTemplate, factory, extra = {}) {
  return {
    uriTemplate,
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: factory,
    ...extra,
  };
}

function body(serializer) {
  return {
    requestBodyContentType: "application/json",
    requestBodySerializer: serializer,
    requestInformationContentSetMethod: "setContentFromParsable",
  };
}

function noContent(uriTemplate, extra = {}) {
  return {
    uriTemplate,
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "sendNoResponseContent",
    ...extra,
  };
}

function count(uriTemplate) {
  return {
    get: {
      uriTemplate,
      responseBodyContentType: "text/plain;q=0.9",
      errorMappings,
      adapterMethodName: "sendPrimitive",
      responseBodyFactory: "number",
      queryParametersMapper: { filter: "%24filter", search: "%24search" },
    },
  };
}

// The bodies of the two actions, as Kiota writes their request-body serializers.
export function serializeAssignPostRequestBody(writer, value = {}) {
  if (!value) return;
  writer.writeCollectionOfObjectValues(
    "enrollmentConfigurationAssignments",
    value.enrollmentConfigurationAssignments,
    serializeEnrollmentConfigurationAssignment,
  );
  writer.writeAdditionalData(value.additionalData);
}

export function serializeSetPriorityPostRequestBody(writer, value = {}) {
  if (!value) return;
  writer.writeNumberValue("priority", value.priority);
  writer.writeAdditionalData(value.additionalData);
}

const assignmentItem = {
  requestsMetadata: {
    get: json(`${assignment}{?%24expand,%24select}`, createEnrollmentConfigurationAssignmentFromDiscriminatorValue, {
      queryParametersMapper: itemQuery,
    }),
    patch: json(assignment, createEnrollmentConfigurationAssignmentFromDiscriminatorValue, body(serializeEnrollmentConfigurationAssignment)),
    delete: noContent(assignment),
  },
  pathParametersMappings: ["enrollmentConfigurationAssignment%2Did"],
};

const configurationItem = {
  requestsMetadata: {
    get: json(`${item}{?%24expand,%24select}`, createDeviceEnrollmentConfigurationFromDiscriminatorValue, {
      queryParametersMapper: itemQuery,
    }),
    patch: json(item, createDeviceEnrollmentConfigurationFromDiscriminatorValue, body(serializeDeviceEnrollmentConfiguration)),
    delete: noContent(item),
  },
  navigationMetadata: {
    assign: { requestsMetadata: { post: noContent(`${item}/assign`, body(serializeAssignPostRequestBody)) } },
    setPriority: { requestsMetadata: { post: noContent(`${item}/setPriority`, body(serializeSetPriorityPostRequestBody)) } },
    assignments: {
      requestsMetadata: {
        get: json(
          `${assignments}{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}`,
          createEnrollmentConfigurationAssignmentCollectionResponseFromDiscriminatorValue,
          { queryParametersMapper: collectionQuery },
        ),
        post: json(assignments, createEnrollmentConfigurationAssignmentFromDiscriminatorValue, body(serializeEnrollmentConfigurationAssignment)),
      },
      navigationMetadata: {
        byEnrollmentConfigurationAssignmentId: assignmentItem,
        count: { requestsMetadata: count(`${assignments}/$count{?%24filter,%24search}`) },
      },
    },
  },
  pathParametersMappings: ["deviceEnrollmentConfiguration%2Did"],
};

const deviceEnrollmentConfigurations = {
  requestsMetadata: {
    get: json(
      `${configs}{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}`,
      createDeviceEnrollmentConfigurationCollectionResponseFromDiscriminatorValue,
      { queryParametersMapper: collectionQuery },
    ),
    post: json(configs, createDeviceEnrollmentConfigurationFromDiscriminatorValue, body(serializeDeviceEnrollmentConfiguration)),
  },
  navigationMetadata: {
    byDeviceEnrollmentConfigurationId: configurationItem,
    count: { requestsMetadata: count(`${configs}/$count{?%24filter,%24search}`) },
  },
};

extendGraphBetaServiceClient({
  deviceManagement: {
    navigationMetadata: { deviceEnrollmentConfigurations },
  },
});
