import EntenteCSV
import Testing

@Suite("CSV writer")
struct WriterTests {
    @Test(
        "cells are quoted only when they must be",
        arguments: [
            ("plain", "plain"),
            ("", ""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("line\nbreak", "\"line\nbreak\""),
            ("cr\rhere", "\"cr\rhere\""),
            (" leading", "\" leading\""),
            ("trailing ", "\"trailing \""),
            ("\ttab", "\"\ttab\""),
            ("inner space", "inner space"),
            ("=SUM(A1:A2)", "=SUM(A1:A2)"),
            ("Zürich 東京", "Zürich 東京"),
        ]
    )
    func quoting(cell: String, written: String) {
        #expect(CSVWriter.quoted(cell) == written)
    }

    @Test("rows end with CRLF by default, LF on request, and a BOM is written on request")
    func lineEndings() {
        var writer = CSVWriter(header: ["id", "note"])
        writer.append(["1", "a, b"])
        #expect(writer.text == "id,note\r\n1,\"a, b\"\r\n")
        var lf = CSVWriter(header: ["id"], lineEnding: .lf, byteOrderMark: true)
        lf.append(["1"])
        #expect(lf.text == "\u{FEFF}id\n1\n")
    }

    @Test("a row of one empty cell is written as \"\" so that it is not read back as a blank line")
    func singleEmptyCell() throws {
        var writer = CSVWriter(header: ["only"])
        writer.append([""])
        writer.append(["x"])
        #expect(writer.text == "only\r\n\"\"\r\nx\r\n")
        #expect(try CSVReader(string: writer.text).readAll().map(\.cells) == [[""], ["x"]])
    }

    @Test("whatever the writer writes, the reader reads back exactly")
    func writeThenRead() throws {
        let rows = [
            ["1", "a,b", "say \"hi\"", ""],
            ["2", "multi\nline\r\nthree", " padded ", "=1+2"],
            ["3", "", "", ""],
            ["4", "\u{FEFF}not a BOM", "🚀", "\"\""],
        ]
        for ending in [CSVWriter.LineEnding.crlf, .lf] {
            for bom in [false, true] {
                var writer = CSVWriter(header: ["id", "a", "b", "c"], lineEnding: ending, byteOrderMark: bom)
                for row in rows { writer.append(row) }
                let reader = try CSVReader(string: writer.text)
                #expect(reader.header == ["id", "a", "b", "c"])
                #expect(try reader.readAll().map(\.cells) == rows)
            }
        }
    }
}
