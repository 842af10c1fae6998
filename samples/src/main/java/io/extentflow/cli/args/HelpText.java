package io.extentflow.cli.args;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code --help} text of a {@link CommandSpec}: a usage line, the description, one row per
 * parameter and option (inherited options included), the subcommands and the epilog, wrapped to 80
 * columns.
 */
public final class HelpText {

    private static final int WIDTH = 80;
    /** Where descriptions start in the option rows. */
    private static final int COLUMN = 29;

    private HelpText() {
    }

    /** The help of {@code command}. */
    public static String of(CommandSpec command) {
        StringBuilder b = new StringBuilder();
        b.append(wrap("Usage: " + usage(command), 0, 7));
        for (String paragraph : command.description()) {
            b.append(paragraph.isEmpty() ? "\n" : wrap(paragraph, 0, 0));
        }
        List<String[]> rows = new ArrayList<>();
        for (CommandSpec.ParameterSpec p : command.parameters()) {
            rows.add(new String[] {"      " + p.label(), p.description()});
        }
        List<OptionSpec> options = new ArrayList<>();
        for (CommandSpec c = command; c != null; c = c.parent()) {
            for (OptionSpec o : c.options()) {
                if (options.stream().noneMatch(seen -> seen.longName().equals(o.longName()))) {
                    options.add(o);
                }
            }
        }
        options.sort((x, y) -> x.key().compareTo(y.key()));
        for (OptionSpec o : options) {
            rows.add(new String[] {"  " + names(o), describe(o)});
        }
        if (!rows.isEmpty()) {
            b.append('\n');
        }
        for (String[] row : rows) {
            b.append(row(row[0], row[1]));
        }
        List<String> commands = ArgumentParser.visibleCommands(command);
        if (!commands.isEmpty()) {
            b.append("\nCommands:\n");
            for (String name : commands) {
                List<String> d = command.subcommands().get(name).description();
                b.append(row("  " + name, d.isEmpty() ? "" : d.getFirst()));
            }
        }
        if (!command.epilog().isEmpty()) {
            b.append('\n');
            for (String line : command.epilog()) {
                b.append(line).append('\n');
            }
        }
        return b.toString();
    }

    private static String usage(CommandSpec command) {
        StringBuilder u = new StringBuilder(command.qualifiedName()).append(" [OPTIONS]");
        for (CommandSpec.ParameterSpec p : command.parameters()) {
            u.append(' ').append(p.required() ? p.label() : "[" + p.label() + "]");
        }
        if (!command.subcommands().isEmpty()) {
            u.append(" COMMAND");
        }
        return u.toString();
    }

    private static String names(OptionSpec o) {
        String shortName = o.names().size() > 1 ? o.names().getFirst() + ", " : "    ";
        String longName = o.negatable() ? "--[no-]" + o.longName().substring(2) : o.longName();
        return shortName + longName + (o.isFlag() ? "" : o.implicitValue() != null ? "[=" + o.label() + "]" : "=" + o.label());
    }

    private static String describe(OptionSpec o) {
        String d = o.description();
        if (o.defaultValue() != null) {
            d += " Default: " + o.defaultValue() + ".";
        }
        return o.required() ? "Required. " + d : d;
    }

    /** One row: the names, then the description from {@link #COLUMN} (on the next line if the names are long). */
    private static String row(String left, String description) {
        if (left.length() >= COLUMN - 1) {
            return left + "\n" + wrap(" ".repeat(COLUMN) + description, 0, COLUMN + 2);
        }
        return left + wrap(" ".repeat(COLUMN - left.length()) + description, left.length(), COLUMN + 2);
    }

    /**
     * Wraps {@code text} at word boundaries, as printed from column {@code start} of a line already
     * begun; continuation lines are indented by {@code rest}. Leading spaces of {@code text} are kept.
     */
    private static String wrap(String text, int start, int rest) {
        StringBuilder out = new StringBuilder();
        int column = start;
        int lead = 0;
        while (lead < text.length() && text.charAt(lead) == ' ') {
            lead++;
        }
        out.append(text, 0, lead);
        column += lead;
        boolean lineStart = true;
        for (String word : text.substring(lead).split(" +")) {
            if (!lineStart && column + 1 + word.length() > WIDTH) {
                out.append('\n').append(" ".repeat(rest));
                column = rest;
                lineStart = true;
            }
            if (!lineStart) {
                out.append(' ');
                column++;
            }
            out.append(word);
            column += word.length();
            lineStart = false;
        }
        return out.append('\n').toString();
    }
}
