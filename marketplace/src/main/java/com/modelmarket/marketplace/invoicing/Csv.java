package com.modelmarket.marketplace.invoicing;

import io.vertx.ext.web.RoutingContext;

/** CSV cells (RFC 4180 quoting; cells that a spreadsheet would run as formulas are prefixed) and downloads. */
final class Csv {

    private Csv() {
    }

    static String cell(String value) {
        if (value == null) {
            return "";
        }
        String v = value;
        if (!v.isEmpty() && "=+-@\t\r".indexOf(v.charAt(0)) >= 0) {
            v = "'" + v;
        }
        if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
            v = "\"" + v.replace("\"", "\"\"") + "\"";
        }
        return v;
    }

    static void send(RoutingContext ctx, String filename, String body) {
        ctx.response().putHeader("Content-Type", "text/csv; charset=utf-8")
                .putHeader("Content-Disposition", "attachment; filename=\"" + filename + "\"")
                .end(body);
    }
}
