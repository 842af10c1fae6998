package io.extentflow.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Logger;
import reactor.core.publisher.Mono;

/**
 * The jobs in a {@link Journal} file of the state directory: a {@code submit} record per job with its
 * request, a {@code state} record per change, a {@code checkpoint} record per durable checkpoint.
 * Opening replays the file and compacts it to what the jobs need now; a running daemon compacts it
 * again when a long copy's checkpoints made it large.
 */
final class JournalJobStore implements JobStore {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");
    /** The journal's file name in the state directory. */
    static final String FILE = "jobs.journal";

    private final Journal journal;
    private final List<Job> restored;
    private final long compactAfter;
    private final AtomicBoolean compacting = new AtomicBoolean();

    private JournalJobStore(Journal journal, List<Job> restored, long compactAfter) {
        this.journal = journal;
        this.restored = restored;
        this.compactAfter = compactAfter;
    }

    /**
     * Opens the journal of {@code stateDir} (created when missing): replays it, keeps at most
     * {@code keepFinished} finished jobs, and rewrites it with what remains. Blocking.
     *
     * @param compactAfter records beyond the three per job that make a running daemon compact the journal
     */
    static JournalJobStore open(Path stateDir, int keepFinished, long compactAfter) throws IOException {
        Files.createDirectories(stateDir);
        Path file = stateDir.resolve(FILE);
        List<Job> restored = restore(Journal.replay(file), keepFinished);
        return new JournalJobStore(Journal.rewrite(file, snapshot(restored)), restored, compactAfter);
    }

    @Override
    public List<Job> restored() {
        return restored;
    }

    @Override
    public Mono<Void> add(Job job) {
        return journal.append(submitRecord(job));
    }

    @Override
    public Mono<Void> saveState(Job job) {
        return journal.append(stateRecord(job));
    }

    @Override
    public Mono<Void> saveCheckpoint(Job job, long offset) {
        return journal.append(checkpointRecord(job.id, offset));
    }

    /** A long copy adds a checkpoint record every interval: compacts when they outnumber the jobs' own. */
    @Override
    public Mono<Void> compactIfLarge(int jobCount, Supplier<List<Job>> keep) {
        if (journal.records() < compactAfter + 3L * jobCount || !compacting.compareAndSet(false, true)) {
            return Mono.empty();
        }
        return journal.compact(() -> snapshot(keep.get())).doFinally(s -> compacting.set(false));
    }

    @Override
    public void close() throws IOException {
        journal.close();
    }

    /** Rebuilds the jobs from journal records; interrupted ones come back queued at their checkpoint. */
    private static List<Job> restore(List<ObjectNode> records, int keepFinished) {
        Map<String, Job> byId = new LinkedHashMap<>();
        for (ObjectNode r : records) {
            String id = r.path("id").asText();
            switch (r.path("op").asText()) {
                case "submit" -> {
                    JobRequest request;
                    String problem = null;
                    try {
                        request = JobRequest.parse(r.get("request"));
                    } catch (BadRequest e) {
                        // e.g. an endpoint kind no longer on the class path: keep the job, failed, with the reason
                        problem = e.getMessage();
                        request = new JobRequest(r.path("request").path("source").asText(),
                                r.path("request").path("target").asText(), null, null,
                                (ObjectNode) r.path("request"));
                    }
                    Job j = new Job(id, request, Instant.parse(r.path("created").asText()));
                    if (problem != null) {
                        j.failed("cannot restore job: " + problem);
                        j.state(JobState.FAILED);
                    }
                    byId.put(id, j);
                }
                case "state" -> {
                    Job j = byId.get(id);
                    if (j != null && !j.state().terminal()) {
                        JobState s = JobState.ofWire(r.path("state").asText());
                        if (r.hasNonNull("error")) {
                            j.failed(r.get("error").asText());
                        }
                        if (r.has("result")) {
                            j.succeeded(DaemonJson.result(r.get("result")));
                        }
                        j.restarts(r.path("restarts").asInt(0));
                        j.state(s);
                    }
                }
                case "checkpoint" -> {
                    Job j = byId.get(id);
                    if (j != null) {
                        j.resumeFrom(r.path("offset").asLong());
                    }
                }
                default -> LOG.warning("journal: ignoring a record of unknown kind: " + r);
            }
        }
        List<Job> all = new ArrayList<>(byId.values());
        List<Job> finished = all.stream().filter(j -> j.state().terminal()).toList();
        int drop = Math.max(0, finished.size() - keepFinished);
        all.removeAll(finished.subList(0, drop));
        for (Job j : all) {
            if (!j.state().terminal()) {
                // running when the earlier daemon stopped: its target may hold part of the copy
                j.interrupted(j.state() == JobState.RUNNING);
                j.state(JobState.QUEUED);
            }
        }
        return all;
    }

    /** The records that rebuild {@code jobs} as they are now: per job, its submit, state and checkpoint. */
    private static List<ObjectNode> snapshot(List<Job> jobs) {
        List<ObjectNode> out = new ArrayList<>();
        for (Job j : jobs) {
            out.add(submitRecord(j));
            out.add(stateRecord(j));
            if (j.savedCheckpoint() > 0) {
                out.add(checkpointRecord(j.id, j.savedCheckpoint()));
            }
        }
        return out;
    }

    private static ObjectNode submitRecord(Job job) {
        ObjectNode o = record("submit", job.id);
        o.put("created", job.created.toString());
        o.set("request", job.request.json());
        return o;
    }

    private static ObjectNode stateRecord(Job job) {
        ObjectNode o = record("state", job.id);
        o.put("state", job.state().wire());
        if (job.error() != null) {
            o.put("error", job.error());
        }
        if (job.restarts() > 0) {
            o.put("restarts", job.restarts());
        }
        JsonNode result = DaemonJson.result(job);
        if (result != null) {
            o.set("result", result);
        }
        return o;
    }

    private static ObjectNode checkpointRecord(String id, long offset) {
        return record("checkpoint", id).put("offset", offset);
    }

    private static ObjectNode record(String op, String id) {
        return JsonNodeFactory.instance.objectNode().put("op", op).put("id", id);
    }
}
