package dev.nemotron4j.cli;

import picocli.CommandLine;

import java.util.Arrays;

/** Token ids given on the command line as "1,5,9" (commas and/or spaces). */
record TokenIds(int[] ids) {

    /** Parses the option value, with an error naming the bad item. */
    static final class Converter implements CommandLine.ITypeConverter<TokenIds> {
        @Override
        public TokenIds convert(String value) {
            String trimmed = value.strip();
            if (trimmed.isEmpty()) {
                throw new CommandLine.TypeConversionException("no token ids given");
            }
            return new TokenIds(Arrays.stream(trimmed.split("[,\\s]+")).mapToInt(item -> {
                try {
                    return Integer.parseInt(item);
                } catch (NumberFormatException e) {
                    throw new CommandLine.TypeConversionException("'" + item + "' is not a token id");
                }
            }).toArray());
        }
    }
}
