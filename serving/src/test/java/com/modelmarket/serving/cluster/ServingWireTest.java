package com.modelmarket.serving.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServingWireTest {

    private static final ModelKey KEY = new ModelKey("owner", "model", "version");

    @Test
    @DisplayName("a call and an answer cross the wire codecs byte for byte, at any offset of the bus frame")
    void roundTrip() {
        Tensor floats = Tensor.ofFloats("pixels", new long[] {2, 3}, 1f, -2.5f, Float.MIN_VALUE, 0f, Float.MAX_VALUE, 7f);
        Tensor longs = Tensor.ofLongs("ids", new long[] {2}, Long.MIN_VALUE, 42L);
        var call = new ServingWire.InferCall(KEY, new InferenceRequest(List.of(floats, longs), List.of("probabilities"), null), 1234);
        Buffer frame = Buffer.buffer("prefix");
        new ServingWire.CallCodec().encodeToWire(frame, call);
        ServingWire.InferCall back = new ServingWire.CallCodec().decodeFromWire(6, frame);
        assertEquals(KEY, back.key());
        assertEquals(1234, back.timeoutMillis());
        assertEquals(List.of("probabilities"), back.request().outputs());
        assertArrayEquals(floats.toByteArray(), back.request().inputs().get(0).toByteArray());
        assertArrayEquals(floats.shape(), back.request().inputs().get(0).shape());
        assertEquals(longs, back.request().inputs().get(1));

        RequestFacts facts = new RequestFacts(KEY, RequestOutcome.SUCCESS, 2, 11, 22, 4, 99, true, 33);
        var answer = new ServingWire.InferAnswer(new InferenceResult(List.of(floats), facts, "node-1"), "node-1");
        Buffer out = Buffer.buffer();
        new ServingWire.AnswerCodec().encodeToWire(out, answer);
        ServingWire.InferAnswer read = new ServingWire.AnswerCodec().decodeFromWire(0, out);
        assertEquals("node-1", read.nodeId());
        assertEquals("node-1", read.result().node());
        assertEquals(facts, read.result().facts());
        assertEquals(floats, read.result().outputs().get(0));
    }

    @Test
    @DisplayName("a frame that claims more than it holds is refused, not read past")
    void truncated() {
        var call = new ServingWire.InferCall(KEY, InferenceRequest.of(Tensor.ofInts("x", new long[] {1}, 5)), 10);
        Buffer body = Buffer.buffer();
        ServingWire.writeCall(body, call);
        Buffer cut = body.getBuffer(0, body.length() - 3);
        assertThrows(RuntimeException.class, () -> ServingWire.readCall(cut));
    }
}
