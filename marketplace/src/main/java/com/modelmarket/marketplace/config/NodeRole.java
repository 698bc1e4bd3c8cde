package com.modelmarket.marketplace.config;

import java.util.Locale;

/**
 * What one process of the platform does ({@code node.role}).
 *
 * <ul>
 *   <li>{@link #ALL}: the HTTP API and its own serving engine in one process, exactly as a single
 *       node (the default; no event-bus hop on the inference path, with or without a cluster).
 *   <li>{@link #API}: the HTTP API, metering and billing; inference is forwarded over the clustered
 *       event bus to serving nodes. No PyTorch in this process.
 *   <li>{@link #SERVING}: a serving engine (sandboxed model hosts) that answers API nodes over the
 *       event bus and advertises what it holds; its HTTP listener answers health and is not meant to
 *       be behind the load balancer.
 * </ul>
 */
public enum NodeRole {
    ALL, API, SERVING;

    public static NodeRole parse(String raw) {
        try {
            return valueOf(raw.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("node.role (MM_NODE_ROLE) must be all, api or serving, got '" + raw + "'");
        }
    }

    /** Whether this node runs models itself (and training jobs). */
    public boolean runsModels() {
        return this != API;
    }
}
