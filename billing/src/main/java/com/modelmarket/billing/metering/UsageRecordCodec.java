package com.modelmarket.billing.metering;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The journal's binary format: a file starts with {@link #FILE_HEADER}, then frames, one per group
 * commit: {@code int length, int crc32c, payload}, the payload being the commit's id (two longs),
 * {@code int count} and that many records. Files of format 1 ({@link #FILE_HEADER_V1}) have no
 * commit id in their frames; they are still read, as {@linkplain UsageCommit#legacy() legacy}
 * commits whose id is derived from the frame's bytes. A record is the request id (unsigned short length and UTF-8 bytes), a flags byte
 * (1: API key present, 2: subscription present), the UUIDs as two longs each, items, compute
 * nanoseconds, the outcome's ordinal and the instant as seconds and nanoseconds. Fixed-width and
 * without field names: encoding costs a few hundred nanoseconds a record, not JSON's microseconds.
 */
final class UsageRecordCodec {

    /** "MMUSAGE" and the format version. */
    static final byte[] FILE_HEADER = {'M', 'M', 'U', 'S', 'A', 'G', 'E', '2'};
    /** The header of the earlier format, whose frames carry no commit id. */
    static final byte[] FILE_HEADER_V1 = {'M', 'M', 'U', 'S', 'A', 'G', 'E', '1'};
    static final int FRAME_HEADER_BYTES = 8;
    private static final int COMMIT_ID_BYTES = 16;
    private static final int FIXED_BYTES = 2 + 1 + 16 * 3 + 4 + 8 + 1 + 8 + 4;
    private static final UsageOutcome[] OUTCOMES = UsageOutcome.values();

    private UsageRecordCodec() {
    }

    /** One frame holding {@code commit}. */
    static ByteBuffer frame(UsageCommit commit) {
        List<UsageRecord> records = commit.records();
        byte[][] ids = new byte[records.size()][];
        int payload = COMMIT_ID_BYTES + 4;
        for (int i = 0; i < ids.length; i++) {
            UsageRecord r = records.get(i);
            ids[i] = r.requestId().getBytes(StandardCharsets.UTF_8);
            payload += FIXED_BYTES + ids[i].length + (r.apiKeyId() != null ? 16 : 0) + (r.subscriptionId() != null ? 16 : 0);
        }
        ByteBuffer out = ByteBuffer.allocate(FRAME_HEADER_BYTES + payload);
        out.putInt(payload).putInt(0);
        uuid(out, commit.id());
        out.putInt(records.size());
        for (int i = 0; i < ids.length; i++) {
            UsageRecord r = records.get(i);
            out.putShort((short) ids[i].length).put(ids[i]);
            out.put((byte) ((r.apiKeyId() != null ? 1 : 0) | (r.subscriptionId() != null ? 2 : 0)));
            uuid(out, r.tenantId());
            if (r.apiKeyId() != null) {
                uuid(out, r.apiKeyId());
            }
            if (r.subscriptionId() != null) {
                uuid(out, r.subscriptionId());
            }
            uuid(out, r.modelId());
            uuid(out, r.modelVersionId());
            out.putInt(r.items()).putLong(r.computeNanos()).put((byte) r.outcome().ordinal());
            out.putLong(r.occurredAt().getEpochSecond()).putInt(r.occurredAt().getNano());
        }
        CRC32C crc = new CRC32C();
        crc.update(out.array(), FRAME_HEADER_BYTES, payload);
        out.putInt(4, (int) crc.getValue());
        out.flip();
        return out;
    }

    /**
     * The commit in the frame at the buffer's position, which moves past it; {@code null} when what is
     * left is not one whole, intact frame (the torn tail of a crash), and then the position stays.
     *
     * @param withId false for a file of format 1, whose frames carry no commit id
     */
    static UsageCommit readFrame(ByteBuffer in, boolean withId) {
        int start = in.position();
        if (in.remaining() < FRAME_HEADER_BYTES) {
            return null;
        }
        int payload = in.getInt(start);
        int expected = in.getInt(start + 4);
        if (payload < idBytes(withId) + 4 || payload > in.remaining() - FRAME_HEADER_BYTES) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(in.array(), in.arrayOffset() + start + FRAME_HEADER_BYTES, payload);
        if ((int) crc.getValue() != expected) {
            return null;
        }
        ByteBuffer body = in.duplicate().position(start + FRAME_HEADER_BYTES).limit(start + FRAME_HEADER_BYTES + payload);
        UUID id;
        if (withId) {
            id = uuid(body);
        } else {
            byte[] bytes = new byte[payload];
            body.get(start + FRAME_HEADER_BYTES, bytes);
            id = UUID.nameUUIDFromBytes(bytes);
        }
        int count = body.getInt();
        List<UsageRecord> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            records.add(record(body));
        }
        in.position(start + FRAME_HEADER_BYTES + payload);
        return new UsageCommit(id, records, !withId);
    }

    private static int idBytes(boolean withId) {
        return withId ? COMMIT_ID_BYTES : 0;
    }

    /** The record count in a frame header at {@code position}, or -1 if no whole frame starts there. */
    static int countAt(ByteBuffer in, int position, boolean withId) {
        int skip = idBytes(withId);
        if (in.limit() - position < FRAME_HEADER_BYTES + skip + 4) {
            return -1;
        }
        int payload = in.getInt(position);
        if (payload < skip + 4 || payload > in.limit() - position - FRAME_HEADER_BYTES) {
            return -1;
        }
        return in.getInt(position + FRAME_HEADER_BYTES + skip);
    }

    private static UsageRecord record(ByteBuffer in) {
        byte[] id = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(id);
        int flags = in.get();
        UUID tenant = uuid(in);
        UUID key = (flags & 1) != 0 ? uuid(in) : null;
        UUID subscription = (flags & 2) != 0 ? uuid(in) : null;
        UUID model = uuid(in);
        UUID version = uuid(in);
        int items = in.getInt();
        long compute = in.getLong();
        UsageOutcome outcome = OUTCOMES[in.get()];
        Instant at = Instant.ofEpochSecond(in.getLong(), in.getInt());
        return new UsageRecord(new String(id, StandardCharsets.UTF_8), tenant, key, subscription, model, version, items,
                compute, outcome, at);
    }

    private static void uuid(ByteBuffer out, UUID id) {
        out.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
    }

    private static UUID uuid(ByteBuffer in) {
        return new UUID(in.getLong(), in.getLong());
    }
}
