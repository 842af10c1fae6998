package io.extentflow.daemon;

/**
 * A daemon's claim on a job of the fleet: which daemon, and which claim of the job (the generation
 * goes up by one per claim). Every write of the job's state names both, and the database accepts
 * it only while the job is still the owner's under that generation: a daemon that lost its lease
 * (it paused, its lease expired, another daemon claimed the job) cannot record anything.
 *
 * @param owner      the daemon's name in the fleet ({@code host:pid:random})
 * @param generation the claim's number
 */
record Lease(String owner, long generation) {
}
