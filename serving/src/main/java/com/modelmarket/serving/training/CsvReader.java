package com.modelmarket.serving.training;

import com.modelmarket.serving.training.DatasetRefusedException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads RFC 4180 records one at a time from a stream: comma-separated, fields optionally in double
 * quotes (a quote inside doubled), LF or CRLF line ends. Counts bytes as it goes so a file over the
 * cap is refused before it is read whole, and counts fields so a huge row cannot exhaust memory.
 */
final class CsvReader {

    private final Reader in;
    private final CountingStream counted;
    private final long maxBytes;
    private final int maxFields;
    private long line; // the line the current record started on
    private long nextLine = 1;
    private int pushedBack = -2;
    private boolean started;

    CsvReader(InputStream stream, long maxBytes, int maxFields) {
        this.counted = new CountingStream(stream);
        this.in = new InputStreamReader(counted, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT));
        this.maxBytes = maxBytes;
        this.maxFields = maxFields;
    }

    /** The file line the last record returned began on. */
    long line() {
        return line;
    }

    /** The next record, or null at the end of the file. Blank lines are skipped. */
    List<String> next() throws IOException {
        while (true) {
            line = nextLine;
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            int c = read();
            if (c < 0) {
                return null;
            }
            if (c == '\n' || (c == '\r' && peekNewline())) {
                nextLine++;
                continue; // blank line
            }
            boolean quoted = false;
            boolean wasQuoted = false;
            while (true) {
                if (quoted) {
                    if (c < 0) {
                        throw new DatasetRefusedException(Reason.MALFORMED, line, null,
                                "a quoted field is not closed before the end of the file");
                    }
                    if (c == '"') {
                        int d = read();
                        if (d == '"') {
                            field.append('"');
                        } else {
                            quoted = false;
                            c = d;
                            continue;
                        }
                    } else {
                        if (c == '\n') {
                            nextLine++;
                        }
                        field.append((char) c);
                    }
                } else if (c < 0 || c == '\n' || c == ',' || (c == '\r' && peekNewline())) {
                    fields.add(field.toString());
                    if (fields.size() > maxFields) {
                        throw new DatasetRefusedException(Reason.TOO_MANY_COLUMNS, line, null,
                                "more than " + maxFields + " columns");
                    }
                    if (c != ',') {
                        if (c >= 0) {
                            nextLine++;
                        }
                        return fields;
                    }
                    field.setLength(0);
                    wasQuoted = false;
                } else if (c == '"' && field.length() == 0 && !wasQuoted) {
                    quoted = true;
                    wasQuoted = true;
                } else {
                    field.append((char) c);
                    if (field.length() > 1_000_000) {
                        throw new DatasetRefusedException(Reason.MALFORMED, line, null,
                                "a field longer than 1,000,000 characters");
                    }
                }
                c = read();
            }
        }
    }

    private boolean peekNewline() throws IOException {
        int d = read();
        if (d == '\n') {
            return true;
        }
        pushedBack = d;
        return false;
    }

    private int read() throws IOException {
        if (pushedBack != -2) {
            int c = pushedBack;
            pushedBack = -2;
            return c;
        }
        int c;
        try {
            c = in.read();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new DatasetRefusedException(Reason.MALFORMED, line, null, "the file is not UTF-8");
        }
        if (!started) {
            started = true;
            if (c == '\uFEFF') { // a byte order mark, as spreadsheet exports write
                return read();
            }
        }
        if (counted.count > maxBytes) {
            throw new DatasetRefusedException(Reason.TOO_LARGE, 0, null,
                    "the file is larger than " + maxBytes + " bytes");
        }
        return c;
    }

    /** Counts the bytes the decoder pulls from the stream. */
    private static final class CountingStream extends java.io.FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
