/**
 * Serving across a Vert.x cluster (issue 19): an API node's {@link
 * com.modelmarket.serving.cluster.RemoteServingEngine} forwards {@code load}, {@code infer} and
 * {@code unload} over the clustered event bus to serving nodes, where a {@link
 * com.modelmarket.serving.cluster.ServingNode} calls its local engine (sandboxed model hosts, its own
 * batching). Serving nodes advertise what they hold ({@link com.modelmarket.serving.cluster.NodeAdvert});
 * the API node's {@link com.modelmarket.serving.cluster.Placement} picks where each call goes.
 * Tensors cross the bus as raw little-endian bytes in binary frames ({@link
 * com.modelmarket.serving.cluster.ServingWire}), never re-encoded as JSON. Knows nothing of HTTP,
 * tenants or the cluster manager: any clustered {@code Vertx} will do.
 */
package com.modelmarket.serving.cluster;
