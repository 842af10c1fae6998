package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.ImageIoException;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import reactor.core.Exceptions;

/** The one line a user reads, whatever Reactor wrapped the cause in. */
class ErrorsTest {

    @Test
    void failuresJoinedByReactorShowTheFirst() {
        ImageIoException first = new ImageIoException("write", "file:/mnt/out.raw", 0, 4096,
                "No space left on device", new IOException("No space left on device"));
        ImageIoException second = new ImageIoException("write", "file:/mnt/out.raw", 4096, 4096,
                "No space left on device", new IOException("No space left on device"));
        Throwable joined = Exceptions.propagate(Exceptions.multiple(first, second));

        assertEquals(first.getMessage(), Errors.message(joined));
    }
}
