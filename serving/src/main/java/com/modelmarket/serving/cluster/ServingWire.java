package com.modelmarket.serving.cluster;

import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary frames of inference over the event bus, and their registered codecs. A tensor is its
 * name, datatype, shape and its raw little-endian bytes, copied once into the frame and once out of
 * it: no JSON, no per-element work. Strings are UTF-8 with an int length; every count is checked.
 */
public final class ServingWire {

    /** Event-bus addresses. */
    public static final String PLACEMENT = "mm.serving.placement";

    public static String servingAddress(String nodeId) {
        return "mm.serving.node." + nodeId;
    }

    public static String artifactAddress(String nodeId) {
        return "mm.serving.artifacts." + nodeId;
    }

    /** The message header that names the operation of a message to a serving node. */
    public static final String OP = "op";

    /** One call: the version, its inputs and wanted outputs, and what is left of its deadline. */
    public record InferCall(ModelKey key, InferenceRequest request, long timeoutMillis) {
    }

    /** One answer: the outputs and facts as the serving node's engine reported them, and that node. */
    public record InferAnswer(InferenceResult result, String nodeId) {
    }

    private static final int MAX_TENSORS = 4096;
    private static final int MAX_RANK = 32;
    private static final int MAX_STRING = 64 * 1024;

    private ServingWire() {
    }

    /** Registers both codecs on this node's event bus (once; a second call changes nothing). */
    public static synchronized void register(EventBus bus) {
        try {
            bus.registerDefaultCodec(InferCall.class, new CallCodec());
            bus.registerDefaultCodec(InferAnswer.class, new AnswerCodec());
        } catch (IllegalStateException alreadyRegistered) {
            // registered by an earlier start in this JVM (tests start several platforms on one Vertx)
        }
    }

    static void writeCall(Buffer out, InferCall call) {
        writeKey(out, call.key());
        out.appendLong(call.timeoutMillis());
        writeTensors(out, call.request().inputs());
        out.appendInt(call.request().outputs().size());
        call.request().outputs().forEach(name -> writeString(out, name));
    }

    static InferCall readCall(Buffer in) {
        int[] pos = {0};
        ModelKey key = readKey(in, pos);
        long timeout = in.getLong(pos[0]);
        pos[0] += 8;
        List<Tensor> inputs = readTensors(in, pos);
        int outputs = count(in, pos, MAX_TENSORS);
        List<String> names = new ArrayList<>(outputs);
        for (int i = 0; i < outputs; i++) {
            names.add(readString(in, pos));
        }
        return new InferCall(key, new InferenceRequest(inputs, names, timeout > 0 ? Duration.ofMillis(timeout) : null), timeout);
    }

    static void writeAnswer(Buffer out, InferAnswer answer) {
        writeString(out, answer.nodeId());
        RequestFacts f = answer.result().facts();
        writeKey(out, f.model());
        writeString(out, f.outcome().name());
        out.appendInt(f.items()).appendLong(f.queueNanos()).appendLong(f.computeNanos()).appendInt(f.batchSize())
                .appendLong(f.batchId()).appendByte((byte) (f.coldStart() ? 1 : 0)).appendLong(f.loadNanos());
        writeTensors(out, answer.result().outputs());
    }

    static InferAnswer readAnswer(Buffer in) {
        int[] pos = {0};
        String node = readString(in, pos);
        ModelKey key = readKey(in, pos);
        RequestOutcome outcome = RequestOutcome.valueOf(readString(in, pos));
        int p = pos[0];
        RequestFacts facts = new RequestFacts(key, outcome, in.getInt(p), in.getLong(p + 4), in.getLong(p + 12),
                in.getInt(p + 20), in.getLong(p + 24), in.getByte(p + 32) != 0, in.getLong(p + 33));
        pos[0] = p + 41;
        List<Tensor> outputs = readTensors(in, pos);
        return new InferAnswer(new InferenceResult(outputs, facts, node), node);
    }

    private static void writeKey(Buffer out, ModelKey key) {
        writeString(out, key.owner());
        writeString(out, key.model());
        writeString(out, key.version());
    }

    private static ModelKey readKey(Buffer in, int[] pos) {
        return new ModelKey(readString(in, pos), readString(in, pos), readString(in, pos));
    }

    private static void writeTensors(Buffer out, List<Tensor> tensors) {
        out.appendInt(tensors.size());
        for (Tensor t : tensors) {
            writeString(out, t.name());
            out.appendByte((byte) t.datatype().ordinal());
            long[] shape = t.shape();
            out.appendInt(shape.length);
            for (long d : shape) {
                out.appendLong(d);
            }
            byte[] data = t.toByteArray();
            out.appendInt(data.length).appendBytes(data);
        }
    }

    private static List<Tensor> readTensors(Buffer in, int[] pos) {
        int n = count(in, pos, MAX_TENSORS);
        List<Tensor> tensors = new ArrayList<>(n);
        DataType[] types = DataType.values();
        for (int i = 0; i < n; i++) {
            String name = readString(in, pos);
            int type = in.getByte(pos[0]);
            pos[0] += 1;
            if (type < 0 || type >= types.length) {
                throw new IllegalArgumentException("unknown datatype " + type);
            }
            int rank = count(in, pos, MAX_RANK);
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) {
                shape[d] = in.getLong(pos[0]);
                pos[0] += 8;
            }
            int length = count(in, pos, Integer.MAX_VALUE);
            byte[] data = in.getBytes(pos[0], pos[0] + length);
            pos[0] += length;
            tensors.add(Tensor.of(name, types[type], shape, data));
        }
        return tensors;
    }

    private static void writeString(Buffer out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.appendInt(bytes.length).appendBytes(bytes);
    }

    private static String readString(Buffer in, int[] pos) {
        int length = count(in, pos, MAX_STRING);
        String s = in.getString(pos[0], pos[0] + length, "UTF-8");
        pos[0] += length;
        return s;
    }

    private static int count(Buffer in, int[] pos, int max) {
        int n = in.getInt(pos[0]);
        pos[0] += 4;
        if (n < 0 || n > max || n > in.length() - pos[0]) {
            throw new IllegalArgumentException("bad count " + n + " in a serving frame");
        }
        return n;
    }

    /** Frames inside one frame of the event bus: a length, then the body. */
    private abstract static class Framed<T> implements MessageCodec<T, T> {
        abstract void write(Buffer out, T value);

        abstract T read(Buffer in);

        @Override
        public void encodeToWire(Buffer buffer, T value) {
            Buffer body = Buffer.buffer(256);
            write(body, value);
            buffer.appendInt(body.length()).appendBuffer(body);
        }

        @Override
        public T decodeFromWire(int pos, Buffer buffer) {
            int length = buffer.getInt(pos);
            return read(buffer.slice(pos + 4, pos + 4 + length));
        }

        @Override
        public T transform(T value) {
            return value; // immutable records on the same node
        }

        @Override
        public byte systemCodecID() {
            return -1;
        }
    }

    static final class CallCodec extends Framed<InferCall> {
        @Override
        void write(Buffer out, InferCall value) {
            writeCall(out, value);
        }

        @Override
        InferCall read(Buffer in) {
            return readCall(in);
        }

        @Override
        public String name() {
            return "mm-infer-call";
        }
    }

    static final class AnswerCodec extends Framed<InferAnswer> {
        @Override
        void write(Buffer out, InferAnswer value) {
            writeAnswer(out, value);
        }

        @Override
        InferAnswer read(Buffer in) {
            return readAnswer(in);
        }

        @Override
        public String name() {
            return "mm-infer-answer";
        }
    }
}
