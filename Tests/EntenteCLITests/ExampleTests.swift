import EntenteTestSupport
import Foundation
import Testing

/// The library example (Examples/JointPipeline) builds, runs, and prints both companies' reports.
@Suite struct ExampleTests {
    @Test func theJointPipelineExampleRunsAndPrintsReports() async throws {
        let process = Process()
        process.executableURL = BuiltBinary.locate("entente-example-pipeline")
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        let result = try await ChildProcess.run(process)
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0)
        #expect(text.contains("refused as expected") && text.contains("'closed-won' is final"))
        #expect(text.contains("Co-sell report: Globex") && text.contains("Co-sell report: Initech"))
        #expect(text.contains("Win ratio            100.00% (1 of 1 closed)"), "\(text)")
        #expect(text.contains("without Globex's deal value: true"))
        #expect(!text.contains("Initrode HR suite") || !text.contains("90,000.00"), "Initech's hidden amount printed")
    }
}
