package io.extentflow.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.copy.CopyResult;
import java.time.Duration;

/** A finished copy's {@link CopyResult} in the journal. */
final class DaemonJson {

    private DaemonJson() {
    }

    /** The job's result as JSON, or null when it has none. */
    static JsonNode result(Job job) {
        CopyResult r = job.result();
        if (r == null) {
            return null;
        }
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("size", r.size()).put("resumed", r.resumedBytes()).put("data", r.dataBytes())
                .put("zeroed", r.zeroedBytes()).put("skipped", r.skippedBytes()).put("read", r.readBytes())
                .put("offloaded", r.offloadedBytes())
                .put("peak_in_flight", r.peakBytesInFlight()).put("duration_ns", r.duration().toNanos());
        return o;
    }

    /** A result written by {@link #result(Job)}. */
    static CopyResult result(JsonNode o) {
        return new CopyResult(o.path("size").asLong(), o.path("resumed").asLong(), o.path("data").asLong(),
                o.path("zeroed").asLong(), o.path("skipped").asLong(), o.path("read").asLong(),
                o.path("peak_in_flight").asLong(), Duration.ofNanos(o.path("duration_ns").asLong()),
                o.path("offloaded").asLong());
    }
}
