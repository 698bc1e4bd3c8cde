package com.modelmarket.serving.batch;

import com.modelmarket.serving.model.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Requests merged into one forward pass. All agree on every input dimension but the first. */
public final class Batch {

    private final long id;
    private final List<PendingRequest> requests;
    private final int items;

    Batch(long id, List<PendingRequest> requests, int items) {
        this.id = id;
        this.requests = List.copyOf(requests);
        this.items = items;
    }

    public long id() {
        return id;
    }

    /** Items over all requests: the first dimension of every merged input and output. */
    public int items() {
        return items;
    }

    /** The latest deadline of the batch's requests ({@link System#nanoTime()}), {@code Long.MAX_VALUE} for none. */
    public long latestDeadlineNanos() {
        long latest = Long.MIN_VALUE;
        for (PendingRequest r : requests) {
            latest = Math.max(latest, r.deadlineNanos);
        }
        return latest;
    }

    public int requestCount() {
        return requests.size();
    }

    List<PendingRequest> requests() {
        return requests;
    }

    /**
     * The requests' inputs joined along the first dimension, one tensor per model input, in the
     * model's input order. Copies bytes: call it on the worker thread.
     */
    public List<Tensor> mergedInputs() {
        int inputs = requests.get(0).inputs().size();
        List<Tensor> merged = new ArrayList<>(inputs);
        for (int i = 0; i < inputs; i++) {
            List<Tensor> parts = new ArrayList<>(requests.size());
            for (PendingRequest r : requests) {
                parts.add(r.inputs().get(i));
            }
            merged.add(Tensor.concat(parts.get(0).name(), parts));
        }
        return merged;
    }

    /**
     * Cuts merged outputs back into each request's items, keeping the outputs each asked for.
     *
     * @throws IllegalStateException if an output lacks the batch's items in its first dimension
     */
    List<List<Tensor>> split(List<Tensor> outputs) {
        for (Tensor out : outputs) {
            if (out.rank() == 0 || out.items() != items) {
                throw new IllegalStateException("output " + out.describe() + " does not have the batch's "
                        + items + " items in its first dimension");
            }
        }
        List<List<Tensor>> perRequest = new ArrayList<>(requests.size());
        long offset = 0;
        for (PendingRequest r : requests) {
            List<Tensor> mine = new ArrayList<>(outputs.size());
            for (Tensor out : outputs) {
                if (r.wantedOutputs().isEmpty() || r.wantedOutputs().contains(out.name())) {
                    mine.add(requests.size() == 1 ? out : out.slice(offset, offset + r.items()));
                }
            }
            perRequest.add(mine);
            offset += r.items();
        }
        return perRequest;
    }
}
