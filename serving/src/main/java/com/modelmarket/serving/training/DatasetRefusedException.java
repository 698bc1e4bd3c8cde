package com.modelmarket.serving.training;

/**
 * A CSV that cannot become a dataset. It names where: the file line (1 is the header) and the
 * column, when the refusal has one; nothing is kept.
 */
public final class DatasetRefusedException extends TrainingException {

    /** Why a file was refused. */
    public enum Reason {
        EMPTY,
        TOO_LARGE,
        TOO_MANY_COLUMNS,
        DUPLICATE_COLUMN,
        UNKNOWN_LABEL_COLUMN,
        WRONG_COLUMN_COUNT,
        NOT_A_NUMBER,
        NOT_FINITE,
        MISSING_LABEL,
        UNKNOWN_LABEL,
        TOO_FEW_ROWS,
        MALFORMED
    }

    private final Reason reason;
    private final long line;
    private final String column;

    DatasetRefusedException(Reason reason, long line, String column, String detail) {
        super(describe(line, column, detail));
        this.reason = reason;
        this.line = line;
        this.column = column;
    }

    public Reason reason() {
        return reason;
    }

    /** The file line the refusal is about (1 = the header, 2 = the first data row); 0 if none. */
    public long line() {
        return line;
    }

    /** The data row (1 = the first row after the header); 0 if the refusal is not about a row. */
    public long row() {
        return line > 1 ? line - 1 : 0;
    }

    /** The column's header name, or null if the refusal is not about one column. */
    public String column() {
        return column;
    }

    private static String describe(long line, String column, String detail) {
        StringBuilder sb = new StringBuilder();
        if (line > 1) {
            sb.append("row ").append(line - 1).append(" (line ").append(line).append(')');
        } else if (line == 1) {
            sb.append("header (line 1)");
        }
        if (column != null) {
            sb.append(sb.length() > 0 ? ", " : "").append("column '").append(column).append('\'');
        }
        return sb.length() > 0 ? sb + ": " + detail : detail;
    }
}
