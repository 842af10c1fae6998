package io.extentflow.engine.nbd.message.reply;

/**
 * A simple reply: the whole answer to a request without payload.
 *
 * @param cookie the request's cookie
 * @param error  0 for success, else an NBD error value
 */
public record SimpleReply(long cookie, int error) implements Reply {

    @Override
    public boolean done() {
        return true;
    }
}
