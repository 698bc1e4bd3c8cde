package com.modelmarket.serving.cluster;

import com.modelmarket.serving.ModelKey;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An API node's view of the serving nodes: their latest adverts. A node that says it is leaving (a
 * graceful stop) takes no new calls from here at once, but its calls in flight stay open: it answers
 * them before it goes ({@link #onLeaving} tells who should load elsewhere what it held). A node is
 * dropped — its calls in flight failed by the {@link #onDrop} listeners — when the cluster manager
 * reports its process gone ({@link #memberLeft}) or when its last advert is older than the expiry (a
 * {@code kill -9} is noticed by the advert's age within the expiry plus one check, whatever the
 * cluster manager's own failure detection takes); a leaving node keeps advertising while it drains,
 * so only one that stops answering is dropped before it is gone. Picks where a call goes: among the
 * live nodes that hold the version, the least loaded (advertised queue depth plus this node's calls
 * in flight to it, which move between adverts); for a load, the node with the most free budget.
 */
public final class Placement {

    private static final Logger LOG = LoggerFactory.getLogger(Placement.class);

    private record Entry(NodeAdvert advert, long receivedNanos) {
    }

    private final Vertx vertx;
    private final long expiryNanos;
    /** The nodes calls may be placed on. */
    private final Map<String, Entry> nodes = new ConcurrentHashMap<>();
    /** Nodes that said they are leaving: no new calls, but their calls in flight are still answered. */
    private final Map<String, Entry> leaving = new ConcurrentHashMap<>();
    /** Ids of nodes that said they are leaving (ids are per process, never reused): a late advert of theirs is ignored. */
    private final Set<String> left = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final List<Consumer<String>> dropListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<NodeAdvert>> leavingListeners = new CopyOnWriteArrayList<>();
    private final Set<String> departed = ConcurrentHashMap.newKeySet();
    private final AtomicLong lastAdvertNanos = new AtomicLong();
    private final AtomicInteger roundRobin = new AtomicInteger();
    private MessageConsumer<JsonObject> consumer;
    private long timer = -1;

    public Placement(Vertx vertx, Duration expiry) {
        this.vertx = vertx;
        this.expiryNanos = expiry.toNanos();
    }

    /** Listens to adverts and checks their age every quarter of the expiry. */
    public io.vertx.core.Future<Void> start() {
        consumer = vertx.eventBus().consumer(ServingWire.PLACEMENT, msg -> update(NodeAdvert.fromJson(msg.body())));
        long every = Math.max(50, expiryNanos / 4_000_000);
        timer = vertx.setPeriodic(every, id -> expire());
        return consumer.completion();
    }

    public io.vertx.core.Future<Void> stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        return consumer == null ? io.vertx.core.Future.succeededFuture() : consumer.unregister();
    }

    /** Called with a node id whenever a serving node is dropped: its calls in flight will not be answered. */
    public void onDrop(Consumer<String> listener) {
        dropListeners.add(listener);
    }

    /** Called once with a node's first leaving advert, which lists what it holds. */
    public void onLeaving(Consumer<NodeAdvert> listener) {
        leavingListeners.add(listener);
    }

    void update(NodeAdvert advert) {
        lastAdvertNanos.set(System.nanoTime());
        if (departed.contains(advert.clusterNodeId())) {
            return; // a late advert of a process the cluster manager already reported gone
        }
        if (advert.leaving()) {
            leaving(advert);
            return;
        }
        if (left.contains(advert.nodeId())) {
            return; // an advert sent before the node said it was leaving, arriving after it
        }
        nodes.compute(advert.nodeId(), (id, old) -> old != null && old.advert().sequence() > advert.sequence()
                ? old : new Entry(advert, System.nanoTime()));
    }

    /** Out of placement at once; kept (and its calls in flight open) while it keeps advertising that it drains. */
    private void leaving(NodeAdvert advert) {
        boolean first = left.add(advert.nodeId());
        Entry before = nodes.remove(advert.nodeId());
        leaving.put(advert.nodeId(), new Entry(advert, System.nanoTime()));
        if (first) {
            LOG.info("Serving node {} is leaving: no new calls go to it; it answers those it has{}", advert.nodeId(),
                    before == null ? " (it was not in placement)" : "");
            leavingListeners.forEach(l -> l.accept(advert));
        }
    }

    /** The cluster manager reports a process gone: every serving node of it is dropped at once. */
    public void memberLeft(String clusterNodeId) {
        departed.add(clusterNodeId);
        for (Map<String, Entry> map : List.of(nodes, leaving)) {
            for (Entry e : List.copyOf(map.values())) {
                if (e.advert().clusterNodeId().equals(clusterNodeId)) {
                    drop(e.advert().nodeId(), "left the cluster");
                }
            }
        }
    }

    private void expire() {
        long now = System.nanoTime();
        for (Map<String, Entry> map : List.of(nodes, leaving)) {
            for (Entry e : List.copyOf(map.values())) {
                if (now - e.receivedNanos() > expiryNanos) {
                    drop(e.advert().nodeId(), "sent no advert for " + (now - e.receivedNanos()) / 1_000_000 + " ms");
                }
            }
        }
    }

    private void drop(String nodeId, String why) {
        boolean wasLive = nodes.remove(nodeId) != null;
        boolean wasLeaving = leaving.remove(nodeId) != null;
        if (wasLive || wasLeaving) {
            if (wasLive) {
                LOG.warn("Serving node {} dropped from placement: it {}", nodeId, why);
            } else {
                LOG.info("Serving node {}, which was leaving, is gone: it {}", nodeId, why);
            }
            dropListeners.forEach(l -> l.accept(nodeId));
        }
    }

    /** The nodes calls may be placed on (not those leaving). */
    public Collection<NodeAdvert> live() {
        return nodes.values().stream().map(Entry::advert).toList();
    }

    public boolean isLive(String nodeId) {
        return nodes.containsKey(nodeId);
    }

    /** Whether a call sent to the node may still be answered: it is live, or leaving and draining. */
    public boolean answers(String nodeId) {
        return nodes.containsKey(nodeId) || leaving.containsKey(nodeId);
    }

    /** Nanoseconds since the last advert of any serving node arrived (Long.MAX_VALUE if none ever did). */
    public long advertAgeNanos() {
        long last = lastAdvertNanos.get();
        return last == 0 ? Long.MAX_VALUE : System.nanoTime() - last;
    }

    /** The least loaded live node holding the version, other than those excluded. */
    public Optional<NodeAdvert> holder(ModelKey key, Set<String> excluded) {
        List<NodeAdvert> holders = new ArrayList<>();
        for (Entry e : nodes.values()) {
            if (e.advert().holds(key) && !excluded.contains(e.advert().nodeId())) {
                holders.add(e.advert());
            }
        }
        if (holders.isEmpty()) {
            return Optional.empty();
        }
        // rotate the start so that equally loaded nodes share the calls
        int start = Math.floorMod(roundRobin.getAndIncrement(), holders.size());
        NodeAdvert best = null;
        long bestLoad = Long.MAX_VALUE;
        for (int i = 0; i < holders.size(); i++) {
            NodeAdvert n = holders.get((start + i) % holders.size());
            long load = load(n);
            if (load < bestLoad) {
                best = n;
                bestLoad = load;
            }
        }
        return Optional.of(best);
    }

    /** How many live nodes hold the version. */
    public int holders(ModelKey key) {
        return (int) nodes.values().stream().filter(e -> e.advert().holds(key)).count();
    }

    /** The live node with the most free budget that does not hold the version yet (for a load or a replica). */
    public Optional<NodeAdvert> roomiest(ModelKey key, Set<String> excluded) {
        return nodes.values().stream().map(Entry::advert)
                .filter(n -> !n.holds(key) && !excluded.contains(n.nodeId()))
                .max(Comparator.comparingLong(NodeAdvert::freeBudgetBytes).thenComparing(n -> -load(n)));
    }

    /** The version's state on the nodes that hold it: the first in service, else any. */
    public Optional<NodeAdvert.Held> held(ModelKey key) {
        NodeAdvert.Held any = null;
        for (Entry e : nodes.values()) {
            for (NodeAdvert.Held m : e.advert().models()) {
                if (m.key().equals(key)) {
                    if (m.state() == com.modelmarket.serving.ModelStatus.State.LOADED) {
                        return Optional.of(m);
                    }
                    any = m;
                }
            }
        }
        return Optional.ofNullable(any);
    }

    /** The calls this node has in flight to a serving node: raised before a send, lowered at its answer. */
    public AtomicInteger inFlight(String nodeId) {
        return inFlight.computeIfAbsent(nodeId, id -> new AtomicInteger());
    }

    long load(NodeAdvert n) {
        AtomicInteger mine = inFlight.get(n.nodeId());
        return n.queueDepth() + (mine == null ? 0 : mine.get());
    }
}
