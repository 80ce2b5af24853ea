import EntenteCSV
import Testing

@Suite("CSV reader")
struct ReaderTests {
    /// Reads every record, turning each thrown error into a `line:code` marker so tests see recovery too.
    static func read(_ text: String) throws -> (header: [String], records: [CSVRecord], errors: [CSVError]) {
        let reader = try CSVReader(string: text)
        var records: [CSVRecord] = []
        var errors: [CSVError] = []
        while true {
            do {
                guard let record = try reader.next() else { break }
                records.append(record)
            } catch {
                errors.append(error)
            }
        }
        return (reader.header, records, errors)
    }

    @Test("a plain file: header, records, line numbers")
    func plain() throws {
        let (header, records, errors) = try Self.read("a,b,c\n1,2,3\n4,5,6\n")
        #expect(header == ["a", "b", "c"])
        #expect(records == [CSVRecord(line: 2, cells: ["1", "2", "3"]), CSVRecord(line: 3, cells: ["4", "5", "6"])])
        #expect(errors.isEmpty)
    }

    @Test("a UTF-8 byte-order mark is skipped", arguments: ["\u{FEFF}id,name\r\n1,x\r\n", "\u{FEFF}id,name\n1,x"])
    func byteOrderMark(text: String) throws {
        let (header, records, _) = try Self.read(text)
        #expect(header == ["id", "name"])
        #expect(records.map(\.cells) == [["1", "x"]])
    }

    @Test("CRLF, LF and a missing final newline give the same records")
    func lineEndings() throws {
        let expected = [CSVRecord(line: 2, cells: ["1", "x"]), CSVRecord(line: 3, cells: ["2", "y"])]
        for text in [
            "id,v\r\n1,x\r\n2,y\r\n", "id,v\n1,x\n2,y\n", "id,v\n1,x\n2,y", "id,v\r\n1,x\r\n2,y", "id,v\r1,x\r2,y\r",
        ] {
            let (_, records, errors) = try Self.read(text)
            #expect(records == expected, "\(text.debugDescription)")
            #expect(errors.isEmpty)
        }
    }

    @Test("quoted cells hold commas, doubled quotes and line breaks; line numbers count physical lines")
    func quoted() throws {
        let text =
            "id,note,n\n1,\"a, b\",x\n2,\"say \"\"hi\"\"\",y\n3,\"line one\nline two\r\nline three\",z\n4,last,w\n"
        let (_, records, errors) = try Self.read(text)
        #expect(errors.isEmpty)
        #expect(
            records == [
                CSVRecord(line: 2, cells: ["1", "a, b", "x"]),
                CSVRecord(line: 3, cells: ["2", "say \"hi\"", "y"]),
                CSVRecord(line: 4, cells: ["3", "line one\nline two\r\nline three", "z"]),
                CSVRecord(line: 7, cells: ["4", "last", "w"]),
            ]
        )
    }

    @Test("empty cells, quoted empty cells, and fewer cells than the header")
    func emptyCells() throws {
        let (_, records, errors) = try Self.read("a,b,c\n,,\n\"\",x,\"\"\n1\n1,2\n")
        #expect(errors.isEmpty)
        #expect(records.map(\.cells) == [["", "", ""], ["", "x", ""], ["1", "", ""], ["1", "2", ""]])
    }

    @Test("blank lines are skipped but still counted")
    func blankLines() throws {
        let (header, records, _) = try Self.read("\n\r\nid,v\n\n1,x\r\n\r\n\n2,y\n\n")
        #expect(header == ["id", "v"])
        #expect(records == [CSVRecord(line: 5, cells: ["1", "x"]), CSVRecord(line: 8, cells: ["2", "y"])])
    }

    @Test("a trailing comma (extra empty cells) is dropped; extra non-empty cells are an error naming the line")
    func tooManyCells() throws {
        let (_, records, errors) = try Self.read("a,b\n1,2,\n3,4,5\n6,7\n")
        #expect(records.map(\.cells) == [["1", "2"], ["6", "7"]])
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .tooManyCells)
        #expect(error.line == 3)
        #expect(error.message.contains("3 cells") && error.message.contains("2 columns"))
    }

    @Test("an unterminated quote is an error naming the line it opens on; nothing follows")
    func unterminated() throws {
        let (_, records, errors) = try Self.read("a,b\n1,x\n2,\"open\n3,y\n4,z\n")
        #expect(records.map(\.cells) == [["1", "x"]])
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .unterminatedQuote)
        #expect(error.line == 3)
        #expect(error.cell == 2)
        #expect(error.description.hasPrefix("line 3: unterminated quoted field"))
    }

    @Test("a quote inside an unquoted cell, or text after a closing quote, is an error; reading goes on")
    func strayQuote() throws {
        let (_, records, errors) = try Self.read("a,b\n1,ab\"c\n2,\"ok\"x\n3,\"multi\nline\"\n4,d\"\n5,fine\n")
        #expect(records.map(\.cells) == [["3", "multi\nline"], ["5", "fine"]])
        #expect(errors.map(\.code) == [.strayQuote, .strayQuote, .strayQuote])
        #expect(errors.map(\.line) == [2, 3, 6])
        #expect(errors.map(\.cell) == [2, 2, 2])
    }

    @Test("invalid UTF-8 is an error naming the line and cell")
    func invalidUTF8() throws {
        var bytes = Array("a,b\n1,ok\n2,".utf8)
        bytes += [0x66, 0xFF, 0x6F]
        bytes += Array("\n3,\"caf\u{E9}\"\n".utf8)
        let reader = try CSVReader(bytes: bytes)
        #expect(try reader.next()?.cells == ["1", "ok"])
        #expect(throws: CSVError.self) { try reader.next() }
        do {
            let reader = try CSVReader(bytes: bytes)
            _ = try reader.next()
            _ = try reader.next()
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.line == 3)
            #expect(error.cell == 2)
        }
        #expect(try reader.next()?.cells == ["3", "caf\u{E9}"])
        #expect(try reader.next() == nil)
    }

    @Test("an empty or blank input has no header", arguments: ["", "\n\n", "\u{FEFF}", "\r\n"])
    func noHeader(text: String) {
        #expect(throws: CSVError.self) { try CSVReader(string: text) }
        do {
            _ = try CSVReader(string: text)
        } catch {
            #expect(error.code == .noHeader)
        }
    }

    @Test("unicode text is kept byte for byte")
    func unicode() throws {
        let (_, records, _) = try Self.read("id,name\n1,Société Générale — Zürich 東京 🚀\n")
        #expect(records.first?.cells[1] == "Société Générale — Zürich 東京 🚀")
    }

    @Test("records that straddle chunk boundaries read the same as from memory")
    func chunkBoundaries() throws {
        var text = "id,note,amount\r\n"
        for index in 0..<300 {
            let note = index % 3 == 0 ? "\"multi\r\nline, \"\"quoted\"\" \(index)\"" : "plain \(index)"
            text += "\(index),\(note),\(index * 7)\r\n"
        }
        let expected = try CSVReader(string: text).readAll()
        #expect(expected.count == 300)
        let path = try TemporaryFile.write(text)
        for chunk in [64, 65, 97, 128, 1000] {
            let reader = try CSVReader(path: path, chunkSize: chunk)
            #expect(reader.header == ["id", "note", "amount"])
            #expect(try reader.readAll() == expected, "chunk \(chunk)")
        }
    }

    @Test("a missing file is an unreadable-file error")
    func missingFile() {
        do {
            _ = try CSVReader(path: "/nonexistent/entente-csv-test.csv")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.code == .unreadableFile)
            #expect(error.message.contains("/nonexistent/entente-csv-test.csv"))
        }
    }
}
