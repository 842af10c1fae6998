package io.extentflow.daemon;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * What the {@link JobsApi} asks of the jobs, as the API shows them ({@link Job#toJson()}): the
 * journal's {@link JobManager} answers from memory, the fleet's {@link FleetJobManager} from the
 * database, for the jobs of every daemon.
 */
interface JobBoard {

    /** Queues a copy; emits the new job once it is stored. */
    Mono<ObjectNode> submit(JobRequest request);

    /** The job with this id, or empty. */
    Mono<ObjectNode> view(String id);

    /** Every job, oldest first. */
    Mono<List<ObjectNode>> list();

    /** Cancels a queued or running job and emits it (empty when unknown; a finished job as it is). */
    Mono<ObjectNode> cancel(String id);
}
