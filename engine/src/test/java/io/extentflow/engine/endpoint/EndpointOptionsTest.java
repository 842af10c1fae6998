package io.extentflow.engine.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The typed keys and the immutable map of endpoint options, with keys of the test's own. */
class EndpointOptionsTest {

    private static final EndpointOption<Boolean> FAST = EndpointOption.flag("go-fast", "Go fast.");
    private static final EndpointOption<Integer> TRIES = EndpointOption.integer("tries", "N", 0, 3, "Tries.");
    private static final EndpointOption<Integer> LANES = EndpointOption.integer("lanes", "N", 1, null, "Lanes.");
    private static final EndpointOption<Path> KEY = EndpointOption.path("keyfile", "PEM", "Key.")
            .withJsonName("key_file");

    @Test
    void aKeyCarriesWhatAFrontEndNeeds() {
        assertEquals("go-fast", FAST.name());
        assertEquals("go_fast", FAST.jsonName());
        assertEquals("key_file", KEY.jsonName());
        assertEquals("keyfile", KEY.name());
        assertTrue(FAST.isFlag());
        assertFalse(TRIES.isFlag());
        assertEquals(Integer.class, TRIES.type());
        assertEquals("N", TRIES.valueLabel());
        assertEquals("Tries.", TRIES.description());
        assertEquals("a non-negative integer", TRIES.expected());
        assertEquals("a positive integer", LANES.expected());
        assertEquals("a path", KEY.expected());
        assertEquals("true or false", FAST.expected());
    }

    @Test
    void parsesTextIntoTheValueType() {
        assertEquals(true, FAST.parse("true"));
        assertEquals(false, FAST.parse("FALSE"));
        assertEquals(7, TRIES.parse(" 7 "));
        assertEquals(0, TRIES.parse("0"));
        assertEquals(Path.of("/etc/ca.pem"), KEY.parse("/etc/ca.pem"));
    }

    @Test
    void refusesTextThatIsNoValueOfTheOption() {
        assertEquals("must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> LANES.parse("0")).getMessage());
        assertEquals("must be at least 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> TRIES.parse("-1")).getMessage());
        assertThrows(NumberFormatException.class, () -> TRIES.parse("two"));
        assertThrows(NumberFormatException.class, () -> TRIES.parse("99999999999"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FAST.parse("yes")).getMessage()
                .contains("must be true or false"));
        assertThrows(IllegalArgumentException.class, () -> KEY.parse(" "));
    }

    @Test
    void unsetOptionsHaveTheirDefaultsAndSetOnesTheirValues() {
        EndpointOptions none = EndpointOptions.defaults();
        assertEquals(false, none.get(FAST));
        assertEquals(3, none.get(TRIES));
        assertNull(none.get(LANES), "no default: the kind of endpoint chooses");
        assertEquals(4, none.getOrElse(LANES, 4));
        assertEquals(Optional.empty(), none.find(TRIES));

        EndpointOptions some = none.with(LANES, 2).withParsed(TRIES, "5").with(FAST, true);
        assertEquals(2, some.get(LANES));
        assertEquals(2, some.getOrElse(LANES, 4));
        assertEquals(5, some.get(TRIES));
        assertEquals(Optional.of(5), some.find(TRIES));
        assertEquals(true, some.get(FAST));
        assertNull(some.get(KEY));
        assertEquals(3, none.get(TRIES), "the map is immutable: with() makes a new one");
        assertEquals(3, some.with(TRIES, null).get(TRIES), "null sets an option back to its default");
        assertEquals("EndpointOptions{lanes=2, tries=5, go-fast=true}", some.toString());
    }

    @Test
    void aChoiceTakesOneOfItsWordsAndMayHaveAnImplicitValue() {
        EndpointOption<String> codec = EndpointOption.choice("codec", "a|b", java.util.List.of("a", "b"), null, "Codec.")
                .withImplicitValue("b");
        assertEquals("a", codec.parse(" A "));
        assertEquals("b", codec.implicitValue());
        assertNull(TRIES.implicitValue());
        assertEquals("must be one of a, b, got 'c'",
                assertThrows(IllegalArgumentException.class, () -> codec.parse("c")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> codec.withImplicitValue("c"));
        EndpointOption<Long> even = EndpointOption.of("even", "N", Long.class, 2L, "an even number", "Even.", t -> {
            long v = Long.parseLong(t);
            if (v % 2 != 0) {
                throw new IllegalArgumentException("must be even, got " + v);
            }
            return v;
        });
        assertEquals(4L, EndpointOptions.defaults().withParsed(even, "4").get(even));
        assertEquals(2L, EndpointOptions.defaults().get(even));
        assertThrows(IllegalArgumentException.class, () -> even.parse("3"));
    }

    @Test
    void equalOptionsAreEqual() {
        EndpointOptions a = EndpointOptions.defaults().with(LANES, 2).with(FAST, true);
        EndpointOptions b = EndpointOptions.defaults().with(FAST, true).with(LANES, 2);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, b.with(LANES, 3));
    }

    @Test
    void refusesValuesOutOfRangeOrOfAnotherType() {
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> EndpointOptions.defaults().with(LANES, 0));
        assertEquals("option lanes must be at least 1, got 0", range.getMessage());
        @SuppressWarnings({"unchecked", "rawtypes"})
        EndpointOption<Object> untyped = (EndpointOption) LANES;
        assertThrows(IllegalArgumentException.class, () -> EndpointOptions.defaults().with(untyped, "two"));
    }

    @Test
    void namesAreKebabOrSnakeCaseWords() {
        assertThrows(IllegalArgumentException.class, () -> EndpointOption.flag("Go Fast", "x"));
        assertThrows(IllegalArgumentException.class, () -> EndpointOption.flag("", "x"));
        assertThrows(IllegalArgumentException.class, () -> EndpointOption.integer("n", "N", 1, 0, "default below"));
    }
}
