package io.extentflow.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.channel.socket.DuplexChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

/**
 * Answers a request the HTTP decoder could not read (a request line or headers too long, a
 * malformed request) with one {@code text/plain} line and closes the connection; logs one line.
 *
 * <p>It sits right after the HTTP codec, before Reactor Netty's own handler, which would log such
 * a request at WARN with every one of its headers (a request with 10,000 headers wrote 920 lines).
 * Once a request failed to decode nothing more is read from the connection.
 */
final class UndecodableRequests extends ChannelInboundHandlerAdapter {

    /** The handler's name in the channel pipeline. */
    static final String NAME = "extentflow.undecodableRequests";

    private boolean failed;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (failed) {
            ReferenceCountUtil.release(msg); // what the decoder still passes on after the failure
            return;
        }
        DecoderResult result = msg instanceof DecoderResultProvider p ? p.decoderResult() : DecoderResult.SUCCESS;
        if (!result.isFailure()) {
            ctx.fireChannelRead(msg);
            return;
        }
        failed = true;
        ReferenceCountUtil.release(msg);
        Throwable cause = result.cause();
        HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                : HttpResponseStatus.BAD_REQUEST;
        String reason = String.valueOf(cause.getMessage()).replace('\n', ' ');
        ClientFaults.log(Level.INFO, "refused an unreadable request from " + ctx.channel().remoteAddress() + ": "
                + status.code() + " " + reason, cause);
        byte[] body = ("Invalid request: " + reason + "\n").getBytes(StandardCharsets.UTF_8);
        FullHttpResponse reply = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        reply.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=UTF-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // Half-close after the reply and close a second later: closing at once with the rest of the
        // request unread makes the kernel send a reset, which can destroy the reply before it is read.
        ctx.writeAndFlush(reply).addListener((ChannelFutureListener) written -> {
            if (ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
                ctx.executor().schedule(() -> ctx.close(), 1, TimeUnit.SECONDS);
            } else {
                ctx.close();
            }
        });
    }
}
