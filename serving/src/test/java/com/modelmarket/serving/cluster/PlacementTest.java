package com.modelmarket.serving.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelStatus;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PlacementTest {

    private static final ModelKey KEY = new ModelKey("owner", "model", "1.0.0");

    private Vertx vertx;
    private Placement placement;
    private final List<String> dropped = new CopyOnWriteArrayList<>();
    private final List<NodeAdvert> leaving = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        placement = new Placement(vertx, Duration.ofSeconds(1));
        placement.onDrop(dropped::add);
        placement.onLeaving(leaving::add);
        placement.start().await(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    private static NodeAdvert advert(long sequence, boolean isLeaving) {
        return new NodeAdvert("n1", "member-1", sequence, "cpu", 1000, 0,
                List.of(new NodeAdvert.Held(KEY, ModelStatus.State.LOADED, 0, 0)), isLeaving);
    }

    @Test
    @DisplayName("a leaving node is out of placement at once but not dropped until its adverts stop; a late advert does not bring it back")
    void leavingIsNotDropping() {
        placement.update(advert(1, false));
        assertTrue(placement.isLive("n1"));
        assertEquals(1, placement.holders(KEY));

        placement.update(advert(3, true));
        assertFalse(placement.isLive("n1"), "no new calls are placed on a leaving node");
        assertEquals(0, placement.holders(KEY));
        assertTrue(placement.answers("n1"), "its calls in flight are still answered");
        assertTrue(dropped.isEmpty(), "leaving does not fail the calls in flight");
        assertEquals(1, leaving.size());
        assertEquals(List.of(KEY), leaving.get(0).models().stream().map(NodeAdvert.Held::key).toList(),
                "the leaving advert lists what the node holds");

        placement.update(advert(2, false)); // sent before the leaving one, arrived after it
        assertFalse(placement.isLive("n1"));
        placement.update(advert(4, true)); // it keeps advertising while it drains
        assertEquals(1, leaving.size(), "the leave is reported once");
        assertTrue(placement.answers("n1"));

        await("a leaving node that stops advertising is dropped").atMost(Duration.ofSeconds(5)).until(() -> dropped.equals(List.of("n1")));
        assertFalse(placement.answers("n1"));
    }

    @Test
    @DisplayName("a leaving node whose process the cluster manager reports gone is dropped at once")
    void memberLeftDropsALeavingNode() {
        placement.update(advert(1, false));
        placement.update(advert(2, true));
        placement.memberLeft("member-1");
        assertEquals(List.of("n1"), dropped);
        assertFalse(placement.answers("n1"));
        placement.update(advert(3, true));
        assertFalse(placement.answers("n1"), "a late advert of a departed process is ignored");
    }
}
