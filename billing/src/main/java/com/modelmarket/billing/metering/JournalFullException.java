package com.modelmarket.billing.metering;

import java.io.IOException;

/** The journal would exceed its size bound; nothing was written. */
final class JournalFullException extends IOException {

    JournalFullException(String message) {
        super(message);
    }
}
