package com.modelmarket.serving.host;

import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The frames exchanged between the platform and a model host over the host's Unix-domain socket.
 * A frame is {@code int length, byte type, long call id, body}; tensors travel as raw
 * little-endian bytes with their datatype and shape, never as JSON.
 *
 * <p>The platform reads what a host sends as untrusted input: a host runs a publisher's code, so
 * every length, count and shape it reports is bounded and checked before anything is allocated.
 */
public final class HostProtocol {

    // platform → host
    public static final byte LOAD = 1;
    public static final byte RUN = 2;
    public static final byte CALIBRATE = 3;
    public static final byte UNLOAD = 4;
    /**
     * Fine-tunes a model file under /models: job name (a plain file name the platform chose), model
     * path, manifest JSON, tensors [features FP32 [n, N], labels FP32 [n]], settings JSON, time
     * limit in nanoseconds. Answered FINETUNED (report JSON; the model is /scratch/JOB.pt) or FAILED.
     */
    public static final byte FINETUNE = 5;
    /** Asks the job named in the body (fine-tuning or training) to stop at its next step; answered DONE. */
    public static final byte CANCEL = 6;
    /**
     * Trains a recipe on a CSV file under /models: job name, CSV path, label column, task, CSV
     * limits JSON, recipe JSON, hyperparameters JSON, held-out fraction (f64), time limit in
     * nanoseconds. PROGRESS frames with the call's id follow each epoch; answered TRAINED (report
     * JSON, manifest JSON; the archive is /scratch/JOB.zip) or FAILED.
     */
    public static final byte TRAIN = 7;
    // host → platform
    public static final byte HELLO = 10;
    public static final byte LOADED = 12;
    public static final byte OUTPUT = 14;
    public static final byte FAILED = 15;
    public static final byte CALIBRATED = 16;
    public static final byte DONE = 17;
    public static final byte FINETUNED = 18;
    /** A job's epoch (progress JSON), sent with the id of its TRAIN or FINETUNE call, which it does not answer. */
    public static final byte PROGRESS = 19;
    public static final byte TRAINED = 20;

    /** Most tensors one message may carry. */
    static final int MAX_TENSORS = 64;
    static final int MAX_RANK = 16;
    static final int MAX_STRING_BYTES = 1 << 20;

    private HostProtocol() {}

    /** One frame, its body still to be read with {@link Reader}. */
    public record Frame(byte type, long id, byte[] body) {
        public Reader reader() {
            return new Reader(body);
        }
    }

    /** Reads one frame, or null at the end of the stream. */
    public static Frame read(InputStream in, int maxFrameBytes) throws IOException {
        // a reader loop passes one DataInputStream for every frame (it buffers nothing of its own)
        DataInputStream data = in instanceof DataInputStream d ? d : new DataInputStream(in);
        int length;
        try {
            length = data.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (length < 9 || length > maxFrameBytes) {
            throw new IOException("frame of " + length + " bytes; at most " + maxFrameBytes);
        }
        byte type = data.readByte();
        long id = data.readLong();
        byte[] body = new byte[length - 9];
        data.readFully(body);
        return new Frame(type, id, body);
    }

    /** Builds a frame body, then writes the whole frame at once. */
    public static final class Writer {
        /** The frame's 13 header bytes come first, filled in by {@link #frame}: the frame is copied out once. */
        private static final int HEADER = 13;
        private static final byte[] UNFILLED_HEADER = new byte[HEADER];
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
        private final DataOutputStream out = new DataOutputStream(bytes);
        private final byte type;
        private final long id;

        public Writer(byte type, long id) {
            this.type = type;
            this.id = id;
            bytes.write(UNFILLED_HEADER, 0, HEADER);
        }

        public Writer string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return bytes(b);
        }

        public Writer bytes(byte[] b) {
            try {
                out.writeInt(b.length);
                out.write(b);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return this;
        }

        public Writer i32(int v) {
            try {
                out.writeInt(v);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return this;
        }

        public Writer i64(long v) {
            try {
                out.writeLong(v);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return this;
        }

        public Writer f64(double v) {
            try {
                out.writeDouble(v);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return this;
        }

        public Writer bool(boolean v) {
            return i32(v ? 1 : 0);
        }

        public Writer tensors(List<Tensor> tensors) {
            i32(tensors.size());
            for (Tensor t : tensors) {
                string(t.name());
                i32(t.datatype().ordinal());
                i32(t.rank());
                for (int d = 0; d < t.rank(); d++) {
                    i64(t.dim(d));
                }
                i32(t.byteSize());
                try {
                    t.writeDataTo(out); // copied by the stream, not cloned first
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            return this;
        }

        /** The frame as it goes on the wire. */
        public byte[] frame() {
            byte[] frame = bytes.toByteArray();
            int length = frame.length - 4;
            frame[0] = (byte) (length >>> 24);
            frame[1] = (byte) (length >>> 16);
            frame[2] = (byte) (length >>> 8);
            frame[3] = (byte) length;
            frame[4] = type;
            for (int i = 0; i < 8; i++) {
                frame[5 + i] = (byte) (id >>> (56 - 8 * i));
            }
            return frame;
        }

        public void writeTo(OutputStream stream) throws IOException {
            stream.write(frame());
            stream.flush();
        }
    }

    /** Reads a frame body; every malformed or oversized value is an {@link IOException}. */
    public static final class Reader {
        /** Big-endian, as DataOutputStream wrote it; {@link #need} checks every read against what is left. */
        private final ByteBuffer in;
        private int left;

        Reader(byte[] body) {
            this.in = ByteBuffer.wrap(body);
            this.left = body.length;
        }

        private void need(long n) throws IOException {
            if (n < 0 || n > left) {
                throw new IOException("the frame is shorter than its contents claim");
            }
            left -= (int) n;
        }

        public int i32() throws IOException {
            need(4);
            return in.getInt();
        }

        public long i64() throws IOException {
            need(8);
            return in.getLong();
        }

        public double f64() throws IOException {
            need(8);
            return in.getDouble();
        }

        public boolean bool() throws IOException {
            return i32() != 0;
        }

        public byte[] bytes() throws IOException {
            int n = i32();
            need(n);
            byte[] b = new byte[n];
            in.get(b);
            return b;
        }

        public String string() throws IOException {
            int n = i32();
            if (n > MAX_STRING_BYTES) {
                throw new IOException("a string of " + n + " bytes");
            }
            need(n);
            String text = new String(in.array(), in.position(), n, StandardCharsets.UTF_8);
            in.position(in.position() + n);
            return text;
        }

        public List<Tensor> tensors() throws IOException {
            int count = i32();
            if (count < 0 || count > MAX_TENSORS) {
                throw new IOException(count + " tensors in one message");
            }
            List<Tensor> tensors = new ArrayList<>(count);
            DataType[] types = DataType.values();
            for (int i = 0; i < count; i++) {
                String name = string();
                int type = i32();
                if (type < 0 || type >= types.length) {
                    throw new IOException("unknown datatype " + type);
                }
                int rank = i32();
                if (rank < 0 || rank > MAX_RANK) {
                    throw new IOException("rank " + rank);
                }
                long[] shape = new long[rank];
                for (int d = 0; d < rank; d++) {
                    shape[d] = i64();
                    if (shape[d] < 0) {
                        throw new IOException("negative dimension");
                    }
                }
                byte[] data = bytes();
                try {
                    tensors.add(Tensor.wrap(name, types[type], shape, data)); // data is this frame's own copy
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw new IOException("tensor " + name + ": " + e.getMessage());
                }
            }
            return tensors;
        }
    }
}
