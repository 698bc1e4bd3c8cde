/**
 * What went wrong, in the product's words: the exceptions services, codecs and handlers throw
 * when a request cannot be served. A leaf package (it imports nothing of the marketplace) that
 * knows no HTTP; {@code http.FailureHandler} alone turns each class into a status, a problem
 * type and headers.
 */
package com.modelmarket.marketplace.errors;
