package com.modelmarket.marketplace.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class SingleFlightTest {

    @Test
    @DisplayName("callers that ask while a call is under way share it, each on its own context; the next ask calls again")
    void sharesOneCall(Vertx vertx, VertxTestContext test) {
        SingleFlight<String, Integer> flight = new SingleFlight<>();
        AtomicInteger calls = new AtomicInteger();
        Promise<Integer> slow = Promise.promise();
        int callers = 20;
        var done = test.checkpoint(callers + 1);
        for (int i = 0; i < callers; i++) {
            Context context = vertx.getOrCreateContext();
            context.runOnContext(v -> flight.run("k", () -> {
                calls.incrementAndGet();
                return slow.future();
            }).onComplete(test.succeeding(value -> test.verify(() -> {
                assertEquals(42, value);
                assertSame(context, Vertx.currentContext(), "answered on the caller's context");
                done.flag();
            }))));
        }
        vertx.setTimer(100, id -> {
            test.verify(() -> assertEquals(1, flight.inFlight()));
            slow.complete(42);
            vertx.setTimer(50, id2 -> flight.run("k", () -> {
                calls.incrementAndGet();
                return Future.succeededFuture(7);
            }).onComplete(test.succeeding(value -> test.verify(() -> {
                assertEquals(7, value, "a finished call is not reused");
                assertEquals(2, calls.get(), "one call for the twenty who asked together, one for the late one");
                assertEquals(0, flight.inFlight());
                done.flag();
            }))));
        });
    }

    @Test
    @DisplayName("a failure reaches every waiting caller and is not remembered")
    void sharesFailures(Vertx vertx, VertxTestContext test) {
        SingleFlight<String, Integer> flight = new SingleFlight<>();
        Promise<Integer> failing = Promise.promise();
        var done = test.checkpoint(3);
        vertx.runOnContext(v -> {
            flight.run("k", failing::future).onComplete(test.failing(e -> done.flag()));
            flight.run("k", () -> Future.succeededFuture(1)).onComplete(test.failing(e -> done.flag()));
            failing.fail("down");
            flight.run("k", () -> Future.succeededFuture(1)).onComplete(test.succeeding(x -> done.flag()));
        });
    }
}
