package io.extentflow.daemon;

/**
 * The daemon no longer holds a job's lease: it expired before it was renewed, another daemon took
 * the job, or it was cancelled. The daemon stops the copy and records nothing for the job.
 */
final class LeaseLost extends RuntimeException {

    LeaseLost(String jobId, String why) {
        super("job " + jobId + ": lease lost (" + why + ")", null, false, false);
    }
}
