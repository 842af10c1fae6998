package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/** The journal survives a crash at any byte: a torn or damaged tail is ignored on replay. */
class JournalTest {

    @TempDir
    Path dir;

    private static ObjectNode record(int i) {
        return JsonNodeFactory.instance.objectNode().put("op", "checkpoint").put("id", "j" + (i % 3)).put("offset", i);
    }

    @Test
    void appendsInOrderAndReplays() throws Exception {
        Path file = dir.resolve("jobs.journal");
        try (Journal j = Journal.rewrite(file, List.of(record(0)))) {
            // appended concurrently from many subscribers: every record lands once, in the order queued
            Flux.range(1, 200).flatMap(i -> j.append(record(i)), 32).then().block(Duration.ofSeconds(30));
        }
        List<ObjectNode> back = Journal.replay(file);
        assertEquals(201, back.size());
        assertEquals(IntStream.rangeClosed(0, 200).boxed().toList(),
                back.stream().map(r -> r.get("offset").asInt()).toList());
    }

    @Test
    void everyTruncationReplaysAPrefix() throws Exception {
        Path file = dir.resolve("jobs.journal");
        Journal.rewrite(file, List.of(record(1), record(2), record(3))).close();
        byte[] whole = Files.readAllBytes(file);
        int[] lineEnds = IntStream.range(0, whole.length).filter(i -> whole[i] == '\n').toArray();
        Path cut = dir.resolve("cut.journal");
        for (int n = 0; n <= whole.length; n++) {
            Files.write(cut, java.util.Arrays.copyOf(whole, n));
            int complete = n;
            long expected = IntStream.of(lineEnds).filter(e -> e < complete).count();
            assertEquals(expected, Journal.replay(cut).size(), "cut at " + n);
        }
    }

    @Test
    void damagedRecordEndsTheReplayAndCompactionDropsIt() throws Exception {
        Path file = dir.resolve("jobs.journal");
        Journal.rewrite(file, List.of(record(1), record(2))).close();
        String text = Files.readString(file);
        // a flipped byte in the second record's JSON, then a record written after it
        String damaged = text.replace("\"offset\":2", "\"offset\":7");
        Files.writeString(file, damaged);
        Files.write(file, Journal.encode(record(3)), StandardOpenOption.APPEND);
        List<ObjectNode> back = Journal.replay(file);
        assertEquals(1, back.size());
        Journal.rewrite(file, back).close();
        assertEquals(1, Files.readString(file, StandardCharsets.UTF_8).lines().count());
        assertTrue(Files.notExists(dir.resolve("jobs.journal.tmp")));
    }
}
