package com.modelmarket.bench.market;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;

/**
 * One request the load generator sends again and again (the body is encoded once).
 *
 * @param items items the request carries, for items/s
 */
record LoadTarget(HttpMethod method, String uri, MultiMap headers, Buffer body, int items) {

    static LoadTarget get(String uri, String apiKey) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + apiKey);
        return new LoadTarget(HttpMethod.GET, uri, headers, null, 1);
    }
}
