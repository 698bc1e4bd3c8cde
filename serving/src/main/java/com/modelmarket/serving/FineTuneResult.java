package com.modelmarket.serving;

import com.modelmarket.serving.training.FineTuneReport;
import java.nio.file.Path;

/**
 * A fine-tuned model: its TorchScript file (a temporary file of the caller's, to store and then
 * delete) and what the run measured. The file was written by publisher code and is as untrusted as
 * an upload: store it and load it like one, so it passes the same checks.
 */
public record FineTuneResult(Path file, FineTuneReport report) {}
