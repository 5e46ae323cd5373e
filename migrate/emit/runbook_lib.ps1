# wsl2-migrate runbook library: the interpreter every generated runbook carries (migrate/emit/runbook.py inlines it).
#
# Read this file to review what a runbook can do. The generated part holds only data: the parameters, the plan
# hash, what each engine must be, and the program: one hashtable per step with its docker command line (pre-encoded)
# or its host action and parameters, all computed by the planner. This file decides nothing the plan can carry: it
# runs the steps in order, keeps the journal, and checks what the plan says must hold. docs/runbook.md describes the
# program, the journal and every action; migrate/rehearse/ is this file's Python twin, which the tests run.
# Conventions: runbook-style section 9. One native-call helper (Invoke-NativeProcess) starts every program through
# System.Diagnostics.Process with a pre-encoded Arguments string and a time limit that ends the whole process tree;
# every change sits under $PSCmdlet.ShouldProcess; every file is written atomically as UTF-8 without BOM; nothing
# binary passes through a PowerShell pipe; source data and backups are never deleted.

$script:Utf8NoBom = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
$script:Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$script:Lf = [string][char]10
$script:CrLf = [string][char]13 + [string][char]10
$script:Results = New-Object -TypeName 'System.Collections.Generic.List[object]'
$script:RunStatus = @{}
$script:StepNotes = New-Object -TypeName 'System.Collections.Generic.List[string]'
$script:StepDeclined = $false
$script:StopRequested = $false
$script:AfterRestart = $false
$script:DryRun = $false
$script:LogPath = ''
$script:TranscriptPath = ''
$script:BackupRoot = ''
$script:DockerExe = ''
$script:Engines = @{}
$script:CheckedEngines = @{}
$script:Options = @{}
$script:Journal = @{ Exists = $false }
$script:Artifacts = @{}

# ---------------------------------------------------------------------------------------------------------------
# Messages and small helpers

function Write-RunbookLog {
    # Verbose message, and one JSON line in the run's log file (real runs only). Never given a secret: docker
    # commands are logged by the Display text the planner redacted.
    [CmdletBinding()] param([Parameter(Mandatory)] [AllowEmptyString()] [string]$Message, [AllowEmptyString()] [string]$StepId = '')
    Write-Verbose -Message ($StepId + ': ' + $Message)
    if ($script:LogPath.Length -eq 0) { return }
    $line = ConvertTo-Json -InputObject ([ordered]@{ time = Get-TimeStamp; step = $StepId; message = $Message }) -Compress
    [System.IO.File]::AppendAllText($script:LogPath, $line + $script:Lf, $script:Utf8NoBom)
}

function Get-TimeStamp {
    # UTC, with a space instead of 'T': PowerShell 7's ConvertFrom-Json would turn ISO 8601 text into a DateTime.
    [CmdletBinding()] [OutputType([string])] param([datetime]$Time = (Get-Date))
    return $Time.ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss', $script:Invariant) + 'Z'
}

function Add-StepNote {
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Text)
    $script:StepNotes.Add($Text)
}

function Get-TextTail {
    # The end of a program's stderr, on one line, for error messages.
    [CmdletBinding()] [OutputType([string])] param([AllowEmptyString()] [string]$Text = '', [int]$Length = 600)
    $flat = ($Text -replace '\s+', ' ').Trim()
    if ($flat.Length -gt $Length) { $flat = '...' + $flat.Substring($flat.Length - $Length) }
    if ($flat.Length -eq 0) { return '(no message)' }
    return $flat
}

function Get-JsonProperty {
    # A property of a ConvertFrom-Json object (found without case: it holds no two names differing only in case) or
    # a key of a hashtable, or $Default (strict mode throws on a missing property). The unary comma keeps an array an
    # array for the caller.
    [CmdletBinding()]
    param([AllowNull()] [object]$Object, [Parameter(Mandatory)] [string]$Name, [AllowNull()] [object]$Default = $null)
    if ($Object -is [System.Collections.IDictionary]) {
        if ($Object.Contains($Name)) { return , $Object[$Name] }
    } elseif ($null -ne $Object -and $null -ne $Object.PSObject.Properties[$Name]) {
        return , $Object.PSObject.Properties[$Name].Value
    }
    return , $Default
}

function Get-RequiredProperty {
    # The value of $Name[0] when the entry has every key of $Name: keys every entry of one of the run's own files has
    # (a damaged file is named, not a strict-mode error).
    [CmdletBinding()] param([AllowNull()] [object]$Object, [Parameter(Mandatory)] [string[]]$Name, [Parameter(Mandatory)] [string]$File)
    foreach ($key in $Name) {
        if ($null -eq (Get-JsonProperty -Object $Object -Name $key)) { throw ($File + ' in ' + $script:BackupRoot + ' is damaged: an entry has no ' + $key + ' (its .bak copy may be whole)') }
    }
    return , (Get-JsonProperty -Object $Object -Name $Name[0])
}

function Confirm-GoOn {
    # ShouldContinue, or, where nobody can answer (-NonInteractive, a deployment tool: the host cannot prompt), an error
    # that says -Force. Ctrl+C at the question is not caught here.
    [CmdletBinding()] [OutputType([bool])] param([Parameter(Mandatory)] [string]$Query, [Parameter(Mandatory)] [string]$Caption)
    try {
        return $PSCmdlet.ShouldContinue($Query, $Caption)
    } catch [System.Management.Automation.PSInvalidOperationException] {
        throw ($Caption + ': ' + $Query + ' Nobody can answer in this session (' + $_.Exception.Message + '): run again with -Force to go on without asking')
    }
}

function Get-BootTime {
    # When Windows last started, as a time stamp: a resume compares it with the one recorded before the restart.
    [CmdletBinding()] [OutputType([string])] param()
    return Get-TimeStamp -Time (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
}

# ---------------------------------------------------------------------------------------------------------------
# Run-time values: the backup folder, engine URLs, the docker executable, host paths

function Assert-BackupFolderPath {
    # The validated backup folder: a full path on a local drive (as plan.backup_path must be: Docker Desktop cannot
    # mount a network share into the helper containers, docker/for-win#8234), no '"', no controls, no trailing '\'.
    # These rules make '"' + path + '"' a correct command-line argument (runbook-style 4.5) for every use below.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [AllowEmptyString()] [string]$Path)
    $trimmed = $Path.TrimEnd([char[]]@([char]92))
    if ($trimmed.Length -eq 0) { throw 'BackupPath is empty' }
    if ($trimmed -match '[\x00-\x1f\x7f"]') { throw ('BackupPath ' + $trimmed + ': must not contain double quotes or control characters') }
    # With the line above, every character GetInvalidPathChars names on .NET Framework and .NET alike.
    if ($trimmed -match '[*?<>|]') { throw ('BackupPath ' + $trimmed + ': holds characters Windows does not allow in a path') }
    if ($trimmed.StartsWith('\\')) {
        throw ('BackupPath ' + $trimmed + ': a network share cannot be mounted into the helper containers by Docker Desktop: use a folder on a local drive, such as D:\wsl2-migrate')
    }
    if ($trimmed -notmatch '^[A-Za-z]:\\[^:]+$') {
        throw ('BackupPath ' + $trimmed + ': must be a full path such as D:\wsl2-migrate (not a drive root, no ":" after the drive)')
    }
    if ($trimmed -match '(^|\\)\.\.?(\\|$)') { throw ('BackupPath ' + $trimmed + ': must not contain "." or ".." segments') }
    return $trimmed
}

function Resolve-DockerExecutable {
    # Process.Start runs only executables: a docker.cmd or docker.ps1 shim would not start.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Path)
    $full = [string](Get-Command -Name $Path -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source)
    if ($full.Length -eq 0) { throw ('DockerPath ' + $Path + ': no such program (install Docker Desktop or pass -DockerPath)') }
    if ($full.IndexOf([char]34) -ge 0 -or $full.EndsWith([string][char]92)) { throw ("DockerPath '" + $full + "': unusable path") }
    if (-not $full.EndsWith('.exe', [System.StringComparison]::OrdinalIgnoreCase)) { throw ("DockerPath '" + $full + "' is not an .exe: pass the docker.exe of Docker Desktop") }
    return $full
}

function ConvertTo-QuotedArgument {
    # A validated run-time value (a path without '"' that does not end in '\') as one command-line argument.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Value)
    if ($Value.IndexOf([char]34) -ge 0 -or $Value.EndsWith([string][char]92) -or $Value.Length -eq 0) {
        throw ('cannot pass ' + $Value + ' as a command-line argument')
    }
    return ([string][char]34 + $Value + [string][char]34)
}

function ConvertTo-EncodedArgument {
    # A value read at run time (a secret) as one command-line argument in double quotes, by the rules of
    # migrate/emit/cmdline.py's encode_quoted (runbook-style 4.5). It is never shown, not even in the error.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [AllowEmptyString()] [string]$Value)
    if ($Value.IndexOf([char]0) -ge 0) { throw 'a value holds a NUL character, which a command line cannot carry' }
    $escaped = [regex]::Replace($Value, '(\\*)"', '$1$1\"')
    $escaped = [regex]::Replace($escaped, '(\\+)\z', '$1$1')
    return ([string][char]34 + $escaped + [string][char]34)
}

function Get-BackupItemPath {
    # A path inside the backup folder: rel uses '/' (as in the plan); '' is the folder itself.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [AllowEmptyString()] [string]$Relative)
    if ($Relative.Length -eq 0) { return $script:BackupRoot }
    return $script:BackupRoot + '\' + $Relative.Replace('/', '\')
}

function Get-SecretValue {
    # Value number Index of a secret-values file a write-secret-values step wrote into secrets\ in the backup folder
    # (each written with a leading '=': see Export-InspectedValue). For a docker command line only; never shown.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Relative, [Parameter(Mandatory)] [int]$Index)
    $path = Get-BackupItemPath -Relative $Relative
    if (-not [System.IO.File]::Exists($path)) { throw ($Relative + ' is missing from the backup folder') }
    $document = ConvertFrom-Json -InputObject (Read-TextFile -Path $path)
    $values = Get-JsonProperty -Object $document -Name 'values' -Default @()
    if ((Get-JsonProperty -Object $document -Name 'format' -Default '') -cne $script:Formats.SecretValues -or $Index -lt 0 -or $Index -ge @($values).Count) { throw ($Relative + ' holds no value ' + $Index) }
    $value = [string]@($values)[$Index]
    if (-not $value.StartsWith('=')) { throw ($Relative + ': value ' + $Index + ' is not in the form the file is written in') }
    return $value.Substring(1)
}

function Get-SystemProgram {
    # A program of System32: the runbook refuses a 32-bit PowerShell, so this is never the redirected SysWOW64.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Name)
    return [System.IO.Path]::Combine([System.Environment]::GetFolderPath('System'), $Name)
}

function Resolve-HostPath {
    # A path of the plan with its %USERPROFILE%, %APPDATA%, %ProgramData%... expanded for the (proven) desktop user.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Template)
    return [System.Environment]::ExpandEnvironmentVariables($Template)
}

function Resolve-HostFile {
    # @{ Path; Existed; Bytes } of a host file: the first of its candidate paths that exists (the plan lists them in
    # the order to try), or else the first one, empty.
    [CmdletBinding()] [OutputType([hashtable])] param([Parameter(Mandatory)] [hashtable]$File)
    foreach ($candidate in $File.Candidates) {
        $path = Resolve-HostPath -Template $candidate
        if ([System.IO.File]::Exists($path)) { return @{ Path = $path; Existed = $true; Bytes = [System.IO.File]::ReadAllBytes($path) } }
    }
    return @{ Path = (Resolve-HostPath -Template $File.Candidates[0]); Existed = $false; Bytes = (New-Object -TypeName 'byte[]' -ArgumentList 0) }
}

# ---------------------------------------------------------------------------------------------------------------
# Files: every text file is written by Write-Utf8FileAtomic (UTF-8 without BOM, temp file + Flush + Replace)

function Write-BytesFileAtomic {
    # Writes a temp file in the same folder, flushes it to disk, then swaps it in with File.Replace (or Move); with
    # -KeepBackup the file it replaces stays as its .bak.
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Path, [Parameter(Mandatory)] [AllowEmptyCollection()] [byte[]]$Bytes, [switch]$KeepBackup)
    $folder = [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($Path)).FullName
    $temp = [System.IO.Path]::Combine($folder, '.' + [System.IO.Path]::GetFileName($Path) + '.' + [guid]::NewGuid().ToString('N') + '.tmp')
    $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $temp, ([System.IO.FileMode]::CreateNew), ([System.IO.FileAccess]::Write), ([System.IO.FileShare]::None)
    try {
        $stream.Write($Bytes, 0, $Bytes.Length)
        $stream.Flush($true)
        $stream.Dispose()
        if (-not [System.IO.File]::Exists($Path)) {
            [System.IO.File]::Move($temp, $Path)
        } elseif ($KeepBackup) {
            [System.IO.File]::Replace($temp, $Path, $Path + '.bak')
        } else {
            # PowerShell passes $null to a .NET string parameter as ''; NullString passes a real null (no backup).
            [System.IO.File]::Replace($temp, $Path, [System.Management.Automation.Language.NullString]::Value)
        }
    } finally {
        # A full disk or a locked file leaves no half-written temp file behind (after a swap it is gone already);
        # a second Dispose does nothing.
        $stream.Dispose()
        if ([System.IO.File]::Exists($temp)) { [System.IO.File]::Delete($temp) }
    }
}

function Write-Utf8FileAtomic {
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Path, [Parameter(Mandatory)] [AllowEmptyString()] [string]$Text, [switch]$KeepBackup)
    Write-BytesFileAtomic -Path $Path -Bytes $script:Utf8NoBom.GetBytes($Text) -KeepBackup:$KeepBackup
}

function Read-TextFile {
    # Text of a file; a BOM (UTF-8, UTF-16) is honoured, otherwise UTF-8 (never the ANSI code page).
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Path)
    return [System.IO.File]::ReadAllText($Path, $script:Utf8NoBom)
}

function Read-JsonDocument {
    # A JSON file written by Write-Utf8FileAtomic -KeepBackup, as ConvertFrom-Json reads it (its objects are changed
    # and written back as they are); its .bak copy when the file is unreadable; $null when neither is readable.
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Path)
    foreach ($candidate in @($Path, ($Path + '.bak'))) {
        if (-not [System.IO.File]::Exists($candidate)) { continue }
        try {
            $document = ConvertFrom-Json -InputObject (Read-TextFile -Path $candidate)
        } catch {
            $problem = $_
            Write-Warning -Message ($candidate + ': ' + $problem.Exception.Message)
            continue
        }
        if ($null -eq $document) { continue }
        if ($candidate -ne $Path) { Write-Warning -Message ($Path + ' was unreadable; using ' + $candidate) }
        return $document
    }
    return $null
}

function Get-BytesSha256 {
    # SHA-256 of bytes in memory, lower-case hex, as Get-FileSha256 gives for a file.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [AllowEmptyCollection()] [byte[]]$Bytes)
    $stream = New-Object -TypeName System.IO.MemoryStream -ArgumentList (, $Bytes)
    return (Get-FileHash -InputStream $stream -Algorithm SHA256).Hash.ToLowerInvariant()
}

function Get-FileSha256 {
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Path)
    return (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
}

function Save-FileSnapshot {
    # The bytes of a file just before the runbook changes it, kept in the backup folder's edits\ (never overwritten)
    # and hashed: the copy must hash like the bytes read, or the change does not go ahead.
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Path, [Parameter(Mandatory)] [AllowEmptyCollection()] [byte[]]$Bytes)
    $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMdd-HHmmss-fff', $script:Invariant)
    $target = Get-BackupItemPath -Relative ($script:Layout.Edits + '/' + $stamp + '-' + [System.IO.Path]::GetFileName($Path))
    Write-BytesFileAtomic -Path $target -Bytes $Bytes
    if ((Get-FileSha256 -Path $target) -ne (Get-BytesSha256 -Bytes $Bytes)) {
        throw ('the copy of ' + $Path + ' in ' + $target + ' does not hash like the original: nothing was changed')
    }
    Write-RunbookLog -Message ('saved the current ' + $Path + ' as ' + $target)
}

# ---------------------------------------------------------------------------------------------------------------
# Native programs: the only place that starts one

function Invoke-NativeProcess {
    # Starts FilePath with the Arguments string as it is: .NET passes it verbatim on 5.1 and 7.x (runbook-style
    # 4.6 B). Both pipes are read asynchronously as UTF-8, or UTF-16 (wsl.exe). Past TimeoutSeconds the whole process
    # tree is ended (docs/runbook.md). A long run shows its time, and the size of ProgressPath when the step writes a
    # file. Only Display, the planner's redacted form, is logged.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string]$FilePath, [Parameter(Mandatory)] [AllowEmptyString()] [string]$Arguments,
        [Parameter(Mandatory)] [AllowEmptyString()] [string]$Display, [Parameter(Mandatory)] [string]$StepId,
        [Parameter(Mandatory)] [ValidateRange(1, 604800)] [int]$TimeoutSeconds, [int[]]$OkExitCodes = @(0),
        [AllowEmptyString()] [string]$WorkingDirectory = '', [AllowEmptyString()] [string]$ProgressPath = '',
        [switch]$NoThrow, [switch]$UnicodeOutput
    )
    $program = [System.IO.Path]::GetFileName($FilePath)
    Write-RunbookLog -StepId $StepId -Message ('run: ' + $program + ' ' + $Display)
    $encoding = $script:Utf8NoBom
    # wsl.exe writes UTF-16 LE into a pipe unless WSL_UTF8=1 is set, and the inbox wsl.exe always does: without the
    # variable, every version writes the one encoding read here.
    if ($UnicodeOutput) { $encoding = [System.Text.Encoding]::Unicode }
    $startInfo = New-Object -TypeName System.Diagnostics.ProcessStartInfo -Property @{
        FileName = $FilePath; Arguments = $Arguments; UseShellExecute = $false; CreateNoWindow = $true
        RedirectStandardInput = $true; RedirectStandardOutput = $true; RedirectStandardError = $true
        StandardOutputEncoding = $encoding; StandardErrorEncoding = $encoding
    }
    if ($UnicodeOutput) { $startInfo.EnvironmentVariables.Remove('WSL_UTF8') }
    if ($WorkingDirectory.Length -gt 0) { $startInfo.WorkingDirectory = $WorkingDirectory }
    $process = New-Object -TypeName System.Diagnostics.Process -Property @{ StartInfo = $startInfo }
    $timedOut = $running = $false
    $taskkill = Get-SystemProgram -Name 'taskkill.exe'
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        try {
            [void]$process.Start()
        } catch {
            throw ('cannot start ' + $FilePath + ': ' + $_.Exception.Message)
        }
        $running = $true
        $process.StandardInput.Close()
        # Reading one pipe to its end before the other can deadlock when the other fills up.
        $stdoutTask = $process.StandardOutput.ReadToEndAsync()
        $stderrTask = $process.StandardError.ReadToEndAsync()
        while (-not $process.WaitForExit(1000 * $script:Timeouts.Poll)) {
            if ($clock.Elapsed.TotalSeconds -ge $TimeoutSeconds) { $timedOut = $true; break }
            $status = ('{0:N0} s' -f $clock.Elapsed.TotalSeconds)
            if ($ProgressPath.Length -gt 0 -and [System.IO.File]::Exists($ProgressPath)) { $status += (', {0:N0} MB written' -f ((New-Object -TypeName System.IO.FileInfo -ArgumentList $ProgressPath).Length / 1048576)) }
            Write-Progress -Id 2 -ParentId 1 -Activity ($program + ' ' + $Display) -Status $status
        }
    } finally {
        if ($running -and -not $process.HasExited) {
            # Past the time limit, or Ctrl+C or an error while it runs: the program and every process it started end
            # (taskkill /T /F: a docker plugin child holds the pipes too). .NET calls only: PowerShell 7.4.2 and
            # later may skip commands in a finally block after Ctrl+C (PowerShell/PowerShell#21552).
            $kill = [System.Diagnostics.ProcessStartInfo]::new($taskkill, '/PID ' + $process.Id + ' /T /F')
            $kill.UseShellExecute = $false
            $kill.CreateNoWindow = $true
            $killer = [System.Diagnostics.Process]::Start($kill)
            [void]$killer.WaitForExit(1000 * $script:Timeouts.KillWait)
            $killer.Dispose()
            [void]$process.WaitForExit(1000 * $script:Timeouts.KillWait)
        }
        Write-Progress -Id 2 -ParentId 1 -Activity $program -Completed
    }
    # A child the tree kill missed (or one detached from a program that ended) may still hold the pipes: the output
    # is waited for a bounded time, never forever.
    $stdout = ''
    $stderr = '(the output pipes stayed open after the program ended)'
    $exitCode = -1
    try {
        if ([System.Threading.Tasks.Task]::WaitAll([System.Threading.Tasks.Task[]]@($stdoutTask, $stderrTask), 1000 * $script:Timeouts.PipeDrain)) {
            $stdout, $stderr = $stdoutTask.Result, $stderrTask.Result
        }
        # An older wsl.exe pads its UTF-16 with NULs.
        if ($UnicodeOutput) { $stdout, $stderr = $stdout.Replace([string][char]0, ''), $stderr.Replace([string][char]0, '') }
        if ($process.HasExited) { $exitCode = $process.ExitCode }
    } finally {
        $process.Dispose()
    }
    Write-RunbookLog -StepId $StepId -Message ('exit code ' + $exitCode + ' after ' + [int]$clock.Elapsed.TotalSeconds + ' s')
    $result = [pscustomobject]@{ ExitCode = $exitCode; StdOut = $stdout; StdErr = $stderr; TimedOut = $timedOut }
    if ($NoThrow) { return $result }
    # dism.exe and wsl.exe write their errors to stdout: it is shown when stderr says nothing.
    $said = $stderr
    if ($said.Trim().Length -eq 0) { $said = $stdout }
    if ($timedOut) { throw ($program + ' did not finish within ' + $TimeoutSeconds + ' s (it and its child processes were ended): ' + (Get-TextTail -Text $said)) }
    if ($OkExitCodes -notcontains $exitCode) { throw ($program + ' exited with code ' + $exitCode + ': ' + (Get-TextTail -Text $said)) }
    return $result
}

function Invoke-DockerCommand {
    # docker --host <engine URL> <pre-encoded command line>; Engine '' leaves out --host (docker desktop ...). The
    # segments are joined as docs/runbook.md says ("A docker step"); a Secret's value is the only argument quoted at
    # run time. The command line is never logged (Display is). The other parameters go to Invoke-NativeProcess.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [AllowEmptyString()] [string]$Engine, [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]]$Segments,
        [Parameter(Mandatory)] [AllowEmptyString()] [string]$Display, [Parameter(Mandatory)] [string]$StepId,
        [Parameter(Mandatory)] [ValidateRange(1, 604800)] [int]$TimeoutSeconds, [int[]]$OkExitCodes = @(0),
        [AllowEmptyString()] [string]$WorkingDirectory = '', [AllowEmptyString()] [string]$ProgressPath = '', [switch]$NoThrow
    )
    $arguments = -join @(foreach ($segment in $Segments) {
            if ($segment -isnot [System.Collections.IDictionary]) {
                [string]$segment
            } elseif ($segment.Contains('Text')) {
                $script:Texts[$segment['Text']]
            } elseif ($segment.Contains('Secret')) {
                ConvertTo-EncodedArgument -Value ($segment['Prefix'] + (Get-SecretValue -Relative $segment['Secret'] -Index $segment['Index']))
            } else {
                Get-BackupItemPath -Relative $segment['Backup']
            }
        })
    if ($Engine.Length -gt 0) { $arguments = '--host ' + $script:Engines[$Engine] + ' ' + $arguments }
    [void]$PSBoundParameters.Remove('Engine')
    [void]$PSBoundParameters.Remove('Segments')
    return Invoke-NativeProcess -FilePath $script:DockerExe -Arguments $arguments @PSBoundParameters
}

function Get-InstalledVersion {
    # The version a planned probe reads ($null when none): 'wsl', the first dotted number of the first line of
    # 'wsl.exe --version', digits only (the words are translated; the inbox WSL has no --version); 'desktop', Docker
    # Desktop's uninstall entry.
    [CmdletBinding()] [OutputType([System.Version])]
    param([Parameter(Mandatory)] [ValidateSet('wsl', 'desktop')] [string]$Probe, [Parameter(Mandatory)] [string]$StepId)
    $text = ''
    $wsl = Get-SystemProgram -Name 'wsl.exe'
    if ($Probe -eq 'desktop') {
        foreach ($key in @(Get-ChildItem -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall' -ErrorAction SilentlyContinue)) {
            # One unreadable key (a broken installer's) is skipped, not fatal.
            $entry = Get-ItemProperty -LiteralPath $key.PSPath -ErrorAction SilentlyContinue
            if ([string](Get-JsonProperty -Object $entry -Name 'DisplayName' -Default '') -match $script:Desktop.UninstallName) {
                $text = [string](Get-JsonProperty -Object $entry -Name 'DisplayVersion' -Default '')
                break
            }
        }
    } elseif ([System.IO.File]::Exists($wsl)) {
        $result = Invoke-NativeProcess -FilePath $wsl -Arguments '--version' -Display '--version' -StepId $StepId -TimeoutSeconds $script:Timeouts.Probe -NoThrow -UnicodeOutput
        $first = @($result.StdOut.Split([char]10) | Where-Object -FilterScript { $_.Trim().Length -gt 0 } | Select-Object -First 1)
        if (-not $result.TimedOut -and $result.ExitCode -eq 0 -and $first.Count -gt 0) { $text = [regex]::Match($first[0], '\d+\.\d+\.\d+(\.\d+)?').Value }
    }
    $version = $null
    if ([System.Version]::TryParse($text, [ref]$version)) { return $version }
    return $null
}

# ---------------------------------------------------------------------------------------------------------------
# Journal (checkpoints) and artifact record: the same files and keys as migrate/rehearse/journal.py

function Import-Journal {
    # Reads journal.json (or its .bak) with its entries as they are: the steps by id, the engines by name, the
    # verified artifacts by path; refuses a journal written for a different plan.
    [CmdletBinding()] param()
    $document = Read-JsonDocument -Path (Get-BackupItemPath -Relative $script:Layout.Journal)
    if ($null -ne $document -and [string](Get-JsonProperty -Object $document -Name 'format' -Default '') -ne $script:Formats.Journal) {
        throw ($script:Layout.Journal + ' in ' + $script:BackupRoot + ' is not a ' + $script:Formats.Journal + ' journal: use another -BackupPath')
    }
    $planHash = [string](Get-JsonProperty -Object $document -Name 'planHash' -Default '')
    if ($null -ne $document -and $planHash -ne $script:PlanHash) {
        throw ($script:Layout.Journal + ' in ' + $script:BackupRoot + ' belongs to plan ' + $planHash + ', this runbook is plan ' + $script:PlanHash + ': use another -BackupPath')
    }
    $reboot = Get-JsonProperty -Object $document -Name 'reboot'
    $script:Journal = @{
        Exists            = $null -ne $document
        Steps             = ConvertTo-EntryTable -Entries (Get-JsonProperty -Object $document -Name 'steps') -Keys $script:EntryKeys.steps
        Engines           = ConvertTo-EntryTable -Entries (Get-JsonProperty -Object $document -Name 'engines') -Keys $script:EntryKeys.engines
        Verified          = ConvertTo-EntryTable -Entries (Get-JsonProperty -Object $document -Name 'verified') -Keys $script:EntryKeys.verified
        RebootNeeded      = [bool](Get-JsonProperty -Object $reboot -Name 'needed' -Default $false)
        RebootRequestedBy = [string](Get-JsonProperty -Object $reboot -Name 'requestedBy' -Default '')
        BootTime          = [string](Get-JsonProperty -Object $reboot -Name 'bootTime' -Default '')
        RolledBack        = [string](Get-JsonProperty -Object $document -Name 'rolledBack' -Default '')
        Finished          = [string](Get-JsonProperty -Object $document -Name 'finished' -Default '')
    }
}

function ConvertTo-EntryTable {
    # A list of journal.json or artifacts.json as a hashtable of its entries (kept as read) by their first key; the
    # journal's engines object as a hashtable by name. An entry without one of $Keys (the program's $script:EntryKeys,
    # the rehearsal's ENTRY_KEYS) is a damaged file, named.
    [CmdletBinding()] param([AllowNull()] [object]$Entries, [Parameter(Mandatory)] [string[]]$Keys, [string]$File = $script:Layout.Journal)
    $table = @{}
    if ($Entries -is [System.Management.Automation.PSCustomObject]) {
        foreach ($property in $Entries.PSObject.Properties) { $table[$property.Name] = $property.Value }
    } else {
        foreach ($entry in $Entries) { $table[[string](Get-JsonProperty -Object $entry -Name $Keys[0] -Default '')] = $entry }
    }
    foreach ($entry in $table.Values) { [void](Get-RequiredProperty -Object $entry -Name $Keys -File $File) }
    return $table
}

function Save-Journal {
    # Atomic write with a .bak, the entries as they are, sorted as the rehearsal writes them (lists made here with @():
    # 5.1 may write an array a function returns whole as { value, Count }); under -WhatIf the journal is only read.
    [CmdletBinding()] param()
    if ($script:DryRun) { return }
    $document = [ordered]@{
        format      = $script:Formats.Journal
        planHash    = $script:PlanHash
        toolVersion = $script:ToolVersion
        steps       = @(foreach ($id in ($script:Journal.Steps.Keys | Sort-Object)) { $script:Journal.Steps[$id] })
        engines     = $script:Journal.Engines
        reboot      = [ordered]@{ needed = $script:Journal.RebootNeeded; requestedBy = $script:Journal.RebootRequestedBy; bootTime = $script:Journal.BootTime }
        verified    = @(foreach ($path in ($script:Journal.Verified.Keys | Sort-Object)) { $script:Journal.Verified[$path] })
        rolledBack  = $script:Journal.RolledBack
        finished    = $script:Journal.Finished
    }
    Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative $script:Layout.Journal) -Text (ConvertTo-Json -InputObject $document -Depth 20) -KeepBackup
    $script:Journal.Exists = $true
}

function Get-StepState {
    # A step's journal entry (created as pending when the journal has none).
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Id)
    if (-not $script:Journal.Steps.ContainsKey($Id)) { $script:Journal.Steps[$Id] = [pscustomobject]@{ id = $Id; status = 'pending'; startedAt = ''; endedAt = ''; attempt = 0; notes = ''; record = [pscustomobject]@{} } }
    return $script:Journal.Steps[$Id]
}

function Write-StepRecord {
    # Sets one key of a step's journal record in memory and keeps the others (commandStarted, output, previous).
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Id, [Parameter(Mandatory)] [string]$Name, [AllowNull()] [object]$Value)
    Add-Member -InputObject (Get-StepState -Id $Id).record -MemberType NoteProperty -Name $Name -Value $Value -Force
}

function Get-StepStatus {
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Id)
    return (Get-JsonProperty -Object $script:Journal.Steps[$Id] -Name 'status' -Default 'pending')
}

function Write-StepStatus {
    # Records a step's state (running, done, failed, or back to its earlier one); a no-op under -WhatIf.
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string]$Id, [Parameter(Mandatory)] [ValidateSet('pending', 'running', 'done', 'failed')] [string]$Status, [AllowEmptyString()] [string]$Notes = '')
    if ($script:DryRun) { return }
    $entry = Get-StepState -Id $Id
    $entry.status = $Status
    $entry.notes = $Notes
    if ($Status -eq 'running') {
        $entry.startedAt = Get-TimeStamp
        $entry.endedAt = ''
        $entry.attempt = $entry.attempt + 1
    } else {
        $entry.endedAt = Get-TimeStamp
    }
    Save-Journal
}

function Import-ArtifactRecord {
    # artifacts.json (or its .bak): each artifact a step wrote, by path, its entry as read.
    [CmdletBinding()] param()
    $document = Read-JsonDocument -Path (Get-BackupItemPath -Relative $script:Layout.Artifacts)
    $script:Artifacts = ConvertTo-EntryTable -Entries (Get-JsonProperty -Object $document -Name 'artifacts') -Keys $script:EntryKeys.artifacts -File $script:Layout.Artifacts
}

function Add-ArtifactRecord {
    # Measures a file a step wrote (size and sha256, never its content) and records it in artifacts.json.
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$StepId, [Parameter(Mandatory)] [hashtable]$Artifact)
    $path = Get-BackupItemPath -Relative $Artifact.Path
    if (-not [System.IO.File]::Exists($path)) { throw ('artifact ' + $Artifact.Path + ' was not written (' + $path + ')') }
    $script:Artifacts[$Artifact.Path] = [pscustomobject]@{
        path    = $Artifact.Path
        kind    = $Artifact.Kind
        subject = $Artifact.Subject
        step    = $StepId
        size    = (New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length
        sha256  = Get-FileSha256 -Path $path
        secret  = [bool]$Artifact.Secret
    }
    $items = @(foreach ($key in ($script:Artifacts.Keys | Sort-Object)) { $script:Artifacts[$key] })
    $document = [ordered]@{ format = $script:Formats.Artifacts; planHash = $script:PlanHash; artifacts = $items }
    Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative $script:Layout.Artifacts) -Text (ConvertTo-Json -InputObject $document -Depth 5) -KeepBackup
    Add-StepNote -Text ($Artifact.Path + ': ' + $script:Artifacts[$Artifact.Path].size + ' bytes')
}

function Test-ArtifactUnchanged {
    # '' when an artifact still has the recorded size and sha256 (re-hashed: the bytes are read again), else why.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Relative)
    if (-not $script:Artifacts.ContainsKey($Relative)) { return ($Relative + ' is not in ' + $script:Layout.Artifacts) }
    $path = Get-BackupItemPath -Relative $Relative
    if (-not [System.IO.File]::Exists($path)) { return ($Relative + ' is missing from the backup folder') }
    $record = $script:Artifacts[$Relative]
    if ((New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length -ne $record.Size -or (Get-FileSha256 -Path $path) -ne $record.Sha256) { return ($Relative + ' changed since it was written (size or sha256 differs)') }
    return ''
}

# ---------------------------------------------------------------------------------------------------------------
# Engines: each proves what it is before the first step that talks to it (the plan says what it must be)

function Confirm-Engine {
    # The one probe-and-prove path (the rehearsal's Context.prove_engine): docker info must report what the plan
    # expects of the engine (OS, kernel, system, not a source's engine id); then it is recorded in the journal with
    # its image store (the source's id lets the target prove it is another engine; the store: docs/runbook.md).
    # -WaitSeconds: looks again until then (or -EngineTimeoutSeconds when longer); -NoThrow: $null when it is not.
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$Engine, [Parameter(Mandatory)] [string]$StepId, [int]$WaitSeconds = 0, [switch]$NoThrow)
    $expect = $script:EngineExpect[$Engine]
    $timeout = 0
    if ($WaitSeconds -gt 0) { $timeout = [System.Math]::Max($WaitSeconds, $script:Options.EngineTimeoutSeconds) }
    $deadline = (Get-Date).AddSeconds($timeout)
    while ($true) {
        $answer = Invoke-DockerCommand -Engine $Engine -Segments $script:Probes.Info -Display 'info' -StepId $StepId -TimeoutSeconds $script:Timeouts.Probe -NoThrow
        $problem = 'it does not answer: ' + (Get-TextTail -Text $answer.StdErr)
        if ($answer.ExitCode -eq 0 -and -not $answer.TimedOut) {
            $info = ConvertFrom-Json -InputObject $answer.StdOut
            $found = @{}
            foreach ($name in @('ID', 'OSType', 'KernelVersion', 'OperatingSystem')) { $found[$name] = [string](Get-JsonProperty -Object $info -Name $name -Default '') }
            $problem = ''
            if ($found.OSType -ne $expect.Os) {
                $problem = 'it runs ' + $found.OSType + ' containers, the plan expects ' + $expect.Os
            } elseif ($expect.KernelContains.Length -gt 0 -and -not $found.KernelVersion.Contains($expect.KernelContains)) {
                $problem = 'its kernel ' + $found.KernelVersion + ' is not the one expected (' + $expect.KernelContains + ')'
            } elseif ($expect.OperatingSystem.Length -gt 0 -and $found.OperatingSystem -ne $expect.OperatingSystem) {
                $problem = 'it runs on ' + $found.OperatingSystem + ', not ' + $expect.OperatingSystem
            }
            foreach ($source in $script:SourceEngines) {
                $sourceId = [string](Get-JsonProperty -Object $script:Journal.Engines[$source] -Name 'id' -Default '')
                if ($problem.Length -eq 0 -and $expect.NotSource -and $sourceId.Length -gt 0 -and $found.ID -eq $sourceId) {
                    $problem = 'it is the old backend''s engine (' + $source + ': the same engine id): the switch has not happened'
                }
            }
            if ($problem.Length -eq 0) { break }
        }
        if ((Get-Date) -ge $deadline) {
            if ($NoThrow) { return $null }
            if ($timeout -gt 0) { throw ('no ' + $Engine + ' engine as expected within ' + $timeout + ' s: ' + $problem) }
            throw ('the ' + $Engine + ' engine is not the expected one: ' + $problem)
        }
        Start-Sleep -Seconds $script:Timeouts.EnginePoll
    }
    # containerd or classic, from DriverStatus: a containerd store shows image ids as manifest digests.
    $store = 'classic'
    foreach ($pair in (Get-JsonProperty -Object $info -Name 'DriverStatus' -Default @())) {
        if ((@($pair) -join '=') -ceq ('driver-type=' + $script:ContainerdDriverType)) { $store = 'containerd' }
    }
    $script:CheckedEngines[$Engine] = $true
    $script:Journal.Engines[$Engine] = @{ id = $found.ID; os = $found.OSType; kernel = $found.KernelVersion; store = $store }
    return $info
}

function Assert-Check {
    # Every planned check holds on the engine, or the step fails naming each one that did not (and the -More problems
    # its caller found). A check's command is read-only and pre-encoded, its expected output computed by the planner
    # ({recorded}: what an earlier step recorded, a commit's new id).
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string]$Engine, [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]]$Checks, [Parameter(Mandatory)] [string]$StepId, [AllowEmptyCollection()] [string[]]$More = @())
    $problems = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($check in $Checks) {
        $expect = $check.Expect
        if ($check.RecordedFrom.Length -gt 0) {
            $recorded = [string](Get-JsonProperty -Object (Get-StepState -Id $check.RecordedFrom).Record -Name 'output' -Default '')
            if ($recorded.Length -eq 0) {
                $problems.Add($check.What + ': ' + $check.RecordedFrom + ' recorded no output')
                continue
            }
            $expect = $expect.Replace('{recorded}', $recorded)
        }
        $found = Invoke-DockerCommand -Engine $Engine -Segments $check.CommandLine -Display ('check: ' + $check.What) -StepId $StepId -OkExitCodes @(0, 1) -TimeoutSeconds $script:Timeouts.Probe
        $got = $found.StdOut.Trim()
        $same = $false
        $problem = ': found ' + $got
        if ($found.ExitCode -ne 0) {
            $problem = ': not there (' + (Get-TextTail -Text $found.StdErr -Length 200) + ')'
        } elseif ($check.Mode -eq 'has-word') {
            $same = ($got -split '\s+') -ccontains $expect
        } elseif ($check.Mode -eq 'equals' -and [string](Get-JsonProperty -Object $script:Journal.Engines[$Engine] -Name 'store' -Default '') -eq 'containerd' -and @($check.C8dFields).Count -gt 0) {
            # Image ids differ on a containerd store: only the fields the plan names (an image's content) are compared.
            $have = $got.Split([char]'|')
            $want = $expect.Split([char]'|')
            $same = $have.Count -eq $want.Count
            foreach ($index in $check.C8dFields) { $same = $same -and $index -lt $want.Count -and $want[$index].Length -gt 0 -and $have[$index] -ceq $want[$index] }
        } elseif ($check.Mode -eq 'equals') {
            $same = $got -ceq $expect
        }
        if (-not $same) { $problems.Add($check.What + $problem) }
    }
    $problems.AddRange($More)
    if ($problems.Count -gt 0) { throw (($problems | Select-Object -First 10) -join '; ') }
}

# ---------------------------------------------------------------------------------------------------------------
# Host files (runbook-style 7): Docker Desktop stopped, bytes kept, named keys only, written atomically, re-read and
# compared, put back on any difference. The rules are migrate/rehearse/settingsfile.py's, which the tests run.

function Test-JsonValueEqual {
    # Deep equality of two JSON values (settingsfile.json_equal): objects by exact key set, arrays in order, strings
    # by case, numbers by value whatever their type (1 and 1.0), true and 1 not.
    [CmdletBinding()] [OutputType([bool])] param([AllowNull()] [object]$Left, [AllowNull()] [object]$Right)
    if ($null -eq $Left -or $null -eq $Right) { return ($null -eq $Left -and $null -eq $Right) }
    if ($Left -is [System.Management.Automation.PSCustomObject] -and $Right -is [System.Management.Automation.PSCustomObject]) {
        if (@($Left.PSObject.Properties).Count -ne @($Right.PSObject.Properties).Count) { return $false }
        foreach ($property in $Left.PSObject.Properties) {
            $other = $Right.PSObject.Properties[$property.Name]
            if ($null -eq $other -or $other.Name -cne $property.Name -or -not (Test-JsonValueEqual -Left $property.Value -Right $other.Value)) { return $false }
        }
        return $true
    }
    if ($Left -is [System.Array] -and $Right -is [System.Array]) {
        if ($Left.Length -ne $Right.Length) { return $false }
        for ($i = 0; $i -lt $Left.Length; $i++) {
            if (-not (Test-JsonValueEqual -Left $Left[$i] -Right $Right[$i])) { return $false }
        }
        return $true
    }
    # 7.x's ConvertFrom-Json reads an ISO 8601 string as a date (5.1 keeps the string).
    if ($Left -is [datetime] -and $Right -is [datetime]) { return ($Left.ToUniversalTime() -eq $Right.ToUniversalTime()) }
    if ($Left.GetType() -eq $Right.GetType()) { return ($Left -ceq $Right) }
    $number = '^(S?Byte|U?Int(16|32|64)|Single|Double|Decimal|BigInteger)$'
    return ($Left.GetType().Name -match $number -and $Right.GetType().Name -match $number -and [double]$Left -eq [double]$Right)
}

function Get-DesktopProcess {
    # Docker Desktop's processes in this session (another signed-in user's Desktop is not this migration's).
    [CmdletBinding()] param([string[]]$Name = $script:Desktop.Processes)
    return @(Get-Process -Name $Name -ErrorAction SilentlyContinue | Where-Object -FilterScript { $_.SessionId -eq [System.Diagnostics.Process]::GetCurrentProcess().SessionId })
}

function Assert-DesktopStopped {
    # Under -WhatIf the earlier stop did not happen, so a running Docker Desktop is only reported.
    [CmdletBinding()] param([Parameter(Mandatory)] [string]$What)
    if (@(Get-DesktopProcess).Count -eq 0) { return }
    if (-not $script:DryRun) { throw ('Docker Desktop is running: ' + $What + ' only while it is stopped') }
    Write-Warning -Message ('Docker Desktop is running; the real run stops it before ' + $What)
}

function Merge-JsonFile {
    # Top-level keys of a host JSON file set and removed, every other key kept, by the rules of docs/runbook.md
    # (settingsfile.edit_json_document); -Record keeps each key's previous state in the step's journal record.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step, [Parameter(Mandatory)] [System.Collections.Specialized.OrderedDictionary]$Set, [AllowEmptyCollection()] [string[]]$Remove = @(), [switch]$Create, [switch]$Record)
    $p = $Step.Params
    Assert-DesktopStopped -What ($p.File.Key + ' is edited')
    $file = Resolve-HostFile -File $p.File
    $document = New-Object -TypeName PSObject
    if ($file.Existed) {
        $document = ConvertFrom-Json -InputObject (Read-TextFile -Path $file.Path)
        if (-not ($document -is [System.Management.Automation.PSCustomObject])) { throw ($file.Path + ': not a JSON object') }
    } elseif (-not $Create) { throw ($p.File.Key + ': none of ' + ($p.File.Candidates -join ', ') + ' exists') }
    $names = @($Set.Keys) + $Remove
    $previous = [ordered]@{}
    foreach ($name in $names) {
        # Found without case: ConvertFrom-Json holds no two names differing only in case.
        $existing = $document.PSObject.Properties[$name]
        $exact = $null -ne $existing -and ($p.IgnoreCase -or $existing.Name -ceq $name)
        # The key this edit replaces or removes: any spelling when it sets one, else only one that matches.
        $hit = $null -ne $existing -and ($exact -or $Set.Contains($name))
        $previous[$name] = [ordered]@{ present = $false; value = $null }
        if ($hit) { $previous[$name] = [ordered]@{ present = $true; value = $existing.Value } }
        if ($exact -and $Set.Contains($name)) { $existing.Value = $Set[$name]; continue }
        if ($hit) { $document.PSObject.Properties.Remove($existing.Name) }
        if ($Set.Contains($name)) { Add-Member -InputObject $document -MemberType NoteProperty -Name $name -Value $Set[$name] }
    }
    if ($Record -and $null -eq (Get-JsonProperty -Object (Get-StepState -Id $Step.Id).Record -Name 'previous')) {
        # Written once: a second attempt must not record its own earlier edit as the previous value.
        Write-StepRecord -Id $Step.Id -Name 'previous' -Value $previous
        Save-Journal
    }
    $text = ConvertTo-Json -InputObject $document -Depth 100
    try {
        # Compared before anything is written with the document in memory (the original with only the named keys
        # changed), not with the text: a value ConvertTo-Json lost or truncated shows as a difference here.
        $same = Test-JsonValueEqual -Left (ConvertFrom-Json -InputObject $text) -Right $document
    } catch {
        throw ($file.Path + ': the edited file would not read back (' + $_.Exception.Message + '); nothing was written')
    }
    if (-not $same) { throw ($file.Path + ': it would not read back as the original with only the named keys changed; nothing was written') }
    Write-HostFile -File $file -Bytes ($script:Utf8NoBom.GetBytes($text)) -Change ('Set or remove ' + ($names -join ', '))
}

function Write-HostFile {
    # A host file's new bytes, after its original bytes are kept in edits\ (when it existed), written atomically and
    # read back; on any difference the original goes back, or a file that did not exist before is moved into the
    # backup folder (never deleted), and the step fails.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$File, [Parameter(Mandatory)] [AllowEmptyCollection()] [byte[]]$Bytes, [Parameter(Mandatory)] [string]$Change)
    if (-not $PSCmdlet.ShouldProcess($File.Path, $Change)) { $script:StepDeclined = $true; return }
    if ($File.Existed) { [void](Save-FileSnapshot -Path $File.Path -Bytes $File.Bytes) }
    Write-BytesFileAtomic -Path $File.Path -Bytes $Bytes
    try {
        $same = (Get-FileSha256 -Path $File.Path) -eq (Get-BytesSha256 -Bytes $Bytes)
    } catch {
        $same = $false
    }
    if ($same) { Add-StepNote -Text ($Change + ' in ' + $File.Path); return }
    if ($File.Existed) {
        Write-BytesFileAtomic -Path $File.Path -Bytes $File.Bytes
        throw ($File.Path + ': it does not read back as written; the original file was put back')
    }
    $aside = Get-BackupItemPath -Relative $script:Layout.Edits
    [void][System.IO.Directory]::CreateDirectory($aside)
    [System.IO.File]::Move($File.Path, [System.IO.Path]::Combine($aside, 'failed-' + [guid]::NewGuid().ToString('N') + '-' + [System.IO.Path]::GetFileName($File.Path)))
    throw ($File.Path + ': it does not read back as written; the file did not exist before and was moved into the backup folder')
}

# ---------------------------------------------------------------------------------------------------------------
# Host actions: one function each (the table in docs/runbook.md pairs each with its Python twin in
# migrate/rehearse/host.py). Mutations sit under ShouldProcess; read-only probes run under -WhatIf too.

function Assert-DesktopUser {
    # This PowerShell runs as the owner of this session's desktop (explorer.exe), whose Docker Desktop and settings move.
    [CmdletBinding()] [OutputType([string])] param()
    $user = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
    $shells = @(Get-CimInstance -ClassName Win32_Process -Filter "Name = 'explorer.exe'" | Where-Object -FilterScript { $_.SessionId -eq [System.Diagnostics.Process]::GetCurrentProcess().SessionId })
    $owner = @($shells | ForEach-Object -Process { Invoke-CimMethod -InputObject $_ -MethodName GetOwner } | Where-Object -FilterScript { $_.ReturnValue -eq 0 })
    if ($owner.Count -eq 0) { throw 'no desktop (explorer.exe) in this session: run the runbook from the desktop of the user whose Docker Desktop it moves' }
    $desktopUser = $owner[0].Domain + '\' + $owner[0].User
    if ($desktopUser -ne $user) {
        throw ('this PowerShell runs as ' + $user + ', but the desktop belongs to ' + $desktopUser + ': its per-user settings (%APPDATA%, .wslconfig) would be the wrong ones. Sign in as ' + $desktopUser + ' and start PowerShell with Run as administrator')
    }
    return $user
}

function Test-MigrationHost {
    # check-host: the desktop user, Windows build, free space, file sharing, manual items; read-only.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $user = Assert-DesktopUser
    if ($p.ExpectedUser.Length -gt 0 -and $p.ExpectedUser -ne $user) { throw ('the plan was made for ' + $p.ExpectedUser + ', this is ' + $user + ': make a plan on this account') }
    $version = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $build = [int]$version.CurrentBuildNumber
    $ubr = [int](Get-JsonProperty -Object $version -Name 'UBR' -Default 0)
    # The last planned floor at or below this build applies (the first, the minimum, when none is).
    $floor = (@($p.Floors[0]) + @($p.Floors | Where-Object -FilterScript { $_.Build -le $build }))[-1]
    if ($build -lt $floor.Build -or ($build -eq $floor.Build -and $ubr -lt $floor.Ubr)) {
        $edition = if ($p.Edition.Length -gt 0) { ' on the ' + $p.Edition + ' edition' } else { '' }
        throw ('Windows build ' + $build + '.' + $ubr + ' is older than ' + $floor.Build + '.' + $floor.Ubr + ', the oldest one Docker Desktop''s WSL 2 backend runs on' + $edition + ': update Windows first')
    }
    Add-StepNote -Text ('Windows ' + $build + '.' + $ubr + ', ' + $user)
    # The backups and the new WSL disk are both on C: by default: what shares a drive is summed before comparing.
    $needs = @(foreach ($need in $p.FreeSpace) {
        $folder = $script:BackupRoot
        if ($need.Folder -ne 'backup') { $folder = Resolve-HostPath -Template $need.Folder }
        if ($folder.StartsWith('\\')) { Add-StepNote -Text ($need.What + ': on a network share, free space not checked'); continue }
        [pscustomobject]@{ Root = [System.IO.Path]::GetPathRoot($folder); What = $need.What; Bytes = [long]$need.Bytes; Unknown = $need.Unknown -or $null -eq $need.Bytes }
    })
    foreach ($drive in @($needs | Group-Object -Property Root)) {
        $what = @($drive.Group | ForEach-Object -Process { $_.What }) -join ' and '
        # Known bytes must fit even when some size is unknown: only the unknown part is asked about.
        $bytes = [long]0
        foreach ($entry in $drive.Group) { $bytes += $entry.Bytes }
        $free = (New-Object -TypeName System.IO.DriveInfo -ArgumentList $drive.Name).AvailableFreeSpace
        if ($free -lt $bytes) {
            throw ('not enough free space for ' + $what + ' on ' + $drive.Name + ': ' + $free + ' bytes free, ' + $bytes + ' needed')
        } elseif (@($drive.Group | Where-Object -FilterScript { $_.Unknown }).Count -gt 0) {
            Write-Warning -Message ($what + ': a size is unknown, ' + $bytes + ' bytes known, ' + $drive.Name + ' has ' + $free + ' bytes free')
            if (-not $script:DryRun -and -not $script:Options.Force -and -not (Confirm-GoOn -Query ($what + ' have a size the plan does not know (' + $bytes + ' bytes known); ' + $drive.Name + ' has ' + $free + ' bytes free. Go on?') -Caption 'Free space')) {
                throw ('stopped: the size of ' + $what + ' is unknown (run again with -Force to go on anyway)')
            }
        } else {
            Add-StepNote -Text ($what + ': ' + $bytes + ' bytes needed, ' + $free + ' free on ' + $drive.Name)
        }
    }
    if ($null -ne $p.FileSharing) { Test-FileSharing -Step $Step }
    foreach ($item in $p.Manual) { Write-Warning -Message ('to do by hand: ' + $item) }
    if (@($p.Manual).Count -gt 0 -and -not $script:DryRun -and -not $script:Options.Force -and -not (Confirm-GoOn -Query ('The plan lists ' + @($p.Manual).Count + ' thing(s) to do by hand (above). Go on?') -Caption 'Manual items')) {
        throw 'stopped before any change: do the items listed above, then run the runbook again'
    }
}

function Test-FileSharing {
    # Hyper-V era Docker Desktop shares only the folders (or drives) its settings list: a helper container mounting
    # the backup folder would otherwise wait on a sharing prompt (docker/for-win#8475). The planner names the
    # setting this Desktop has: filesharingDirectories lists folders, sharedDrives maps drive letters to true.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $setting = $Step.Params.FileSharing.Setting
    $file = Resolve-HostFile -File $Step.Params.Settings
    if (-not $file.Existed) { throw 'Docker Desktop''s settings file is missing: is Docker Desktop installed for this user?' }
    $shared = Get-JsonProperty -Object (ConvertFrom-Json -InputObject (Read-TextFile -Path $file.Path)) -Name $setting
    if ($null -eq $shared) { Add-StepNote -Text ($setting + ' is not set: Docker Desktop shares its default folders'); return }
    if ($setting -eq 'sharedDrives') { $shared = @($shared.PSObject.Properties | Where-Object -FilterScript { $_.Value -is [bool] -and $_.Value } | ForEach-Object -Process { $_.Name + ':' }) }
    # The backup folder is shared when it is one of the folders (or drives) or under one.
    $root = $script:BackupRoot.TrimEnd([char[]]@([char]92))
    $under = @($shared | Where-Object -FilterScript { ($root + '\').StartsWith(([string]$_).TrimEnd([char[]]@([char]92)) + '\', [System.StringComparison]::OrdinalIgnoreCase) })
    if ($under.Count -eq 0) { throw ('the backup folder ' + $root + ' is not shared with Docker Desktop''s VM: add it (or its drive) in Settings > Resources > File sharing, or pass a -BackupPath under a shared folder') }
    Add-StepNote -Text ('the backup folder is shared with Docker Desktop (' + $setting + ')')
}

function Protect-Folder {
    # Path created (or found owned by one of Sids or Administrators), then limited to Sids: icacls
    # /inheritance:r /grant:r, read back and checked before anything is written into it. With -AdminOwned it is
    # first given to Administrators, so the user's unelevated processes cannot take its ACL back as its owner.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [string]$Path, [Parameter(Mandatory)] [string[]]$Sids, [Parameter(Mandatory)] [string]$StepId, [switch]$AdminOwned)
    if ([System.IO.Directory]::Exists($Path)) {
        $owner = (Get-Acl -LiteralPath $Path).GetOwner([System.Security.Principal.SecurityIdentifier]).Value
        if ($Sids -notcontains $owner -and $owner -ne 'S-1-5-32-544') { throw ("'" + $Path + "' already exists and belongs to " + $owner + ': remove it or choose another folder') }
    }
    if (-not $PSCmdlet.ShouldProcess($Path, 'Create the folder and limit it to ' + ($Sids -join ', '))) { $script:StepDeclined = $true; return }
    [void][System.IO.Directory]::CreateDirectory($Path)
    $icacls = Get-SystemProgram -Name 'icacls.exe'
    $quoted = ConvertTo-QuotedArgument -Value $Path
    if ($AdminOwned) { [void](Invoke-NativeProcess -FilePath $icacls -Arguments ($quoted + ' /setowner *S-1-5-32-544') -Display ('icacls ' + $Path + ' /setowner Administrators') -StepId $StepId -TimeoutSeconds $script:Timeouts.Acl) }
    $grants = @($Sids | ForEach-Object -Process { '*' + $_ + ':(OI)(CI)F' }) -join ' '
    [void](Invoke-NativeProcess -FilePath $icacls -Arguments ($quoted + ' /inheritance:r /grant:r ' + $grants) -Display ('icacls ' + $Path + ' (' + ($Sids -join ', ') + ' only)') -StepId $StepId -TimeoutSeconds $script:Timeouts.Acl)
    $acl = Get-Acl -LiteralPath $Path
    if (-not $acl.AreAccessRulesProtected) { throw ("'" + $Path + "': inheritance is still on after icacls") }
    $strangers = @($acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier]) | ForEach-Object -Process { $_.IdentityReference.Value } | Where-Object -FilterScript { $Sids -notcontains $_ })
    if ($strangers.Count -gt 0) { throw ("'" + $Path + "': unexpected access rule for " + ($strangers -join ', ')) }
    Write-RunbookLog -StepId $StepId -Message ('folder ' + $Path + ' limited to ' + ($Sids -join ', '))
}

function Register-RunbookTask {
    # Both tasks run as this user, interactive: allowed and kept on battery, no time limit (the default 72 h would
    # end a long restore, or Docker Desktop itself), normal priority (the default 7 runs below normal, and so would
    # Desktop). Task holds the rest of Register-ScheduledTask's parameters. Only called once ShouldProcess agreed.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Task, [Parameter(Mandatory)] [ValidateSet('Highest', 'Limited')] [string]$RunLevel)
    $settings = New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -StartWhenAvailable -ExecutionTimeLimit (New-TimeSpan -Seconds 0) -Priority 4
    $principal = New-ScheduledTaskPrincipal -UserId ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name) -LogonType Interactive -RunLevel $RunLevel
    [void](Register-ScheduledTask @Task -Principal $principal -Settings $settings -Force)
}

function Initialize-BackupFolder {
    # prepare-backup-folder (and a real run's start, before its first log line): the backup folder, limited to this
    # user and SYSTEM, then the sub-folders the plan names (each inherits the lock); never on a mapped network drive
    # (Docker Desktop cannot mount it) or a FAT or exFAT drive (no ACLs; 4 GB files). One question under -Confirm.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    $root = $script:BackupRoot
    $drive = New-Object -TypeName System.IO.DriveInfo -ArgumentList ([System.IO.Path]::GetPathRoot($root))
    if ($drive.DriveType -eq [System.IO.DriveType]::Network) { throw ("'" + $root + "' is on a network drive: Docker Desktop cannot mount it into the helper containers; choose a local drive with -BackupPath") }
    # An elevated PowerShell does not see the drives the user mapped (and a mapped share could not be mounted).
    if ($drive.DriveType -eq [System.IO.DriveType]::NoRootDirectory) { throw ("'" + $root + "': drive " + $drive.Name + ' is not there for this elevated PowerShell (a mapped network drive?): choose a folder on a local drive with -BackupPath') }
    if ($drive.IsReady -and @('FAT', 'FAT32', 'exFAT') -contains $drive.DriveFormat) { throw ("'" + $root + "' is on a " + $drive.DriveFormat + ' drive: it cannot be locked to you and holds no file over 4 GB; choose an NTFS or ReFS drive with -BackupPath') }
    $userSid = [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
    $what = if ($Step.Params.Folders.Count -gt 0) { 'Create the backup folder (with ' + ($Step.Params.Folders -join ', ') + ')' } else { 'Create the backup folder' }
    if (-not $PSCmdlet.ShouldProcess($root, $what + ' and limit it to ' + $userSid + ' and SYSTEM')) { $script:StepDeclined = $true; return }
    Protect-Folder -Path $root -Sids @($userSid, 'S-1-5-18') -StepId $Step.Id -Confirm:$false
    foreach ($folder in $Step.Params.Folders) { [void][System.IO.Directory]::CreateDirectory((Get-BackupItemPath -Relative $folder)) }
    Add-StepNote -Text 'backup folder limited to you and SYSTEM'
}

function Export-InspectedValue {
    # write-env-file and write-secret-values: the planned entries of a source object (environment variables, or the
    # labels and options the plan holds only as digests), read from the engine now and written into secrets\ as a
    # docker env file or a secret-values file for the restore's docker commands; never logged. The planned inspect
    # format prints [key, value] pairs with a leading '=' (why: secret_inspect_format in migrate/plan/actions.py).
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $inspect = Invoke-DockerCommand -Engine $Step.Engine -Segments $p.Inspect -Display $p.Display -StepId $Step.Id -TimeoutSeconds $script:Timeouts.Probe
    $found = New-Object -TypeName 'System.Collections.Generic.Dictionary[string,string]' -ArgumentList ([System.StringComparer]::Ordinal)
    foreach ($field in (ConvertFrom-Json -InputObject $inspect.StdOut).PSObject.Properties) {
        foreach ($pair in $field.Value) { if ($null -ne $pair) { $found[$field.Name + '/' + ([string]$pair[0]).Substring(1)] = ([string]$pair[1]).Substring(1) } }
    }
    $values = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($ref in $p.Entries) {
        $key = $ref.Field + '/' + $ref.Key
        if (-not $found.ContainsKey($key)) { throw ($p.Subject + ' no longer has the ' + $ref.What) }
        if ($found[$key] -cmatch $p.Unsafe) { throw ($p.Subject + ': the ' + $ref.What + ' ' + $p.UnsafeWhy) }
        $values.Add($found[$key])
    }
    if (-not $PSCmdlet.ShouldProcess($p.Path, 'Write ' + $values.Count + ' value(s) of ' + $Step.Target)) { $script:StepDeclined = $true; return }
    # A docker env file (no planned format): a NAME=value line each; a secret-values file: values read by position.
    $text = -join @($values | ForEach-Object -Process { $_ + $script:Lf })
    $body = [ordered]@{ format = $p.FileFormat; names = @($p.Entries | ForEach-Object -Process { $_.What }); values = @($values | ForEach-Object -Process { '=' + $_ }) }
    if ($p.FileFormat.Length -gt 0) { $text = ConvertTo-Json -InputObject $body -Compress }
    Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative $p.Path) -Text $text
    Add-StepNote -Text ([string]$values.Count + ' value(s) written')
}

function Test-BackupArtifact {
    # verify-backups: every artifact the plan lists (all that the steps before this one write) still has its
    # recorded size and sha256; the journal keeps the sha256 each had.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $verified = @{}
    foreach ($relative in $Step.Params.Artifacts) {
        if ($script:DryRun -and -not $script:Artifacts.ContainsKey($relative)) { continue }
        $problem = Test-ArtifactUnchanged -Relative $relative
        if ($problem.Length -gt 0) { throw ('backup ' + $problem) }
        $verified[$relative] = [pscustomobject]@{ path = $relative; sha256 = $script:Artifacts[$relative].sha256 }
    }
    $script:Journal.Verified = $verified
    Add-StepNote -Text ([string]$verified.Count + ' artifact(s) verified')
}

function Wait-DesktopProcess {
    # Whether Docker Desktop's main process appeared (with -Gone: all its processes ended) within Seconds.
    [CmdletBinding()] [OutputType([bool])] param([Parameter(Mandatory)] [int]$Seconds, [switch]$Gone)
    $names = if ($Gone) { $script:Desktop.Processes } else { $script:Desktop.Windows }
    $deadline = (Get-Date).AddSeconds($Seconds)
    while ((@(Get-DesktopProcess -Name $names).Count -gt 0) -eq $Gone.IsPresent) {
        if ((Get-Date) -gt $deadline) { return $false }
        Start-Sleep -Seconds $script:Timeouts.Poll
    }
    return $true
}

function Stop-DockerDesktop {
    # stop-desktop: 'docker desktop stop' where it exists (4.37+), else the processes; then wait until all are gone;
    # with ShutdownWsl, 'wsl --shutdown' so WSL reads .wslconfig again.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    if ($script:AfterRestart -and -not $script:DryRun) {
        # After a restart Explorer starts the Run entries some time after logon: when Docker Desktop has one, it is
        # given DesktopStart seconds to appear, so that this stop finds it rather than nothing yet.
        $run = Get-ItemProperty -LiteralPath 'HKCU:\Software\Microsoft\Windows\CurrentVersion\Run' -ErrorAction SilentlyContinue
        if ($null -ne $run -and @($run.PSObject.Properties | Where-Object -FilterScript { [string]$_.Value -match $script:Desktop.RunEntry }).Count -gt 0) { [void](Wait-DesktopProcess -Seconds $script:Timeouts.DesktopStart) }
        $script:AfterRestart = $false
    }
    $serviceRunning = @(Get-Service -Name $script:Desktop.Service -ErrorAction SilentlyContinue | Where-Object -FilterScript { $_.Status -eq 'Running' }).Count -gt 0
    if (@(Get-DesktopProcess).Count -eq 0 -and -not $serviceRunning) {
        Add-StepNote -Text 'Docker Desktop is not running'
    } elseif ($PSCmdlet.ShouldProcess('Docker Desktop', 'Stop')) {
        if ((Invoke-DockerCommand -Engine '' -Segments $script:Probes.DesktopStop -Display 'desktop stop' -StepId $Step.Id -TimeoutSeconds $p.Timeout -NoThrow).ExitCode -ne 0) {
            Write-RunbookLog -StepId $Step.Id -Message 'docker desktop stop is not available; stopping the processes'
            Get-DesktopProcess | Stop-Process -Force -ErrorAction SilentlyContinue -Confirm:$false
        }
        if ($serviceRunning) { Stop-Service -Name $script:Desktop.Service -Force -Confirm:$false }
        if (-not (Wait-DesktopProcess -Seconds $p.Timeout -Gone)) { throw ('Docker Desktop did not stop within ' + $p.Timeout + ' s') }
        Add-StepNote -Text 'Docker Desktop stopped'
    } else {
        $script:StepDeclined = $true
    }
    $wsl = Get-SystemProgram -Name 'wsl.exe'
    if ($p.ShutdownWsl -and [System.IO.File]::Exists($wsl)) {
        if (-not $PSCmdlet.ShouldProcess('WSL', 'Shut down all distributions (wsl --shutdown)')) { $script:StepDeclined = $true; return }
        [void](Invoke-NativeProcess -FilePath $wsl -Arguments '--shutdown' -Display '--shutdown' -StepId $Step.Id -TimeoutSeconds $script:Timeouts.WslShutdown)
        Add-StepNote -Text 'WSL shut down'
    }
}

function Wait-VmOff {
    # check-vm-off: the old backend's Hyper-V VMs report off (a planned EnabledState) before any setting changes.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $deadline = (Get-Date).AddSeconds($p.Timeout)
    while ($true) {
        try {
            $running = @(Get-CimInstance -Namespace 'root\virtualization\v2' -ClassName 'Msvm_ComputerSystem' -ErrorAction Stop | Where-Object -FilterScript { $p.Names -contains [string]$_.ElementName -and @($p.OffStates) -notcontains [int]$_.EnabledState } | ForEach-Object -Process { [string]$_.ElementName })
        } catch [Microsoft.Management.Infrastructure.CimException] {
            # Only a missing namespace means no Hyper-V; access denied or a broken WMI must not pass as "off".
            if ([string]$_.Exception.NativeErrorCode -ne 'InvalidNamespace') { throw ('cannot read the Hyper-V VMs (root\virtualization\v2): ' + $_.Exception.Message) }
            if ($p.Required) { throw 'Hyper-V''s WMI namespace (root\virtualization\v2) is missing, but the old backend is a Hyper-V VM: repair Hyper-V, then resume' }
            Add-StepNote -Text 'Hyper-V is not installed: no VM to wait for'
            return
        }
        if ($running.Count -eq 0) { Add-StepNote -Text 'the old VM is off'; return }
        if ($script:DryRun) { Write-Warning -Message ('VM ' + ($running -join ', ') + ' is running; the real run stopped Docker Desktop before this check'); return }
        if ((Get-Date) -gt $deadline) { throw ('the VM ' + ($running -join ', ') + ' is still running ' + $p.Timeout + ' s after Docker Desktop stopped: stop it in Hyper-V Manager, then resume') }
        Start-Sleep -Seconds $script:Timeouts.Poll
    }
}

function Backup-HostFile {
    # backup-files: each host file as it is (bytes kept, hashed) into settings\, listed in the manifest; an earlier
    # manifest is never overwritten, because it holds the files from before any change.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    Assert-DesktopStopped -What 'the settings are backed up'
    if ([System.IO.File]::Exists((Get-BackupItemPath -Relative $p.Manifest))) { Add-StepNote -Text ('kept the backup made earlier (' + $p.Manifest + ')'); return }
    if (-not $PSCmdlet.ShouldProcess($script:BackupRoot, 'Copy ' + @($p.Files).Count + ' host files into the backup folder')) { $script:StepDeclined = $true; return }
    $entries = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($file in $p.Files) {
        $live = Resolve-HostFile -File $file
        $entry = [ordered]@{ key = $file.Key; path = $live.Path; present = $live.Existed; backup = ''; sha256 = '' }
        if ($live.Existed) {
            $relative = $file.Backup
            Write-BytesFileAtomic -Path (Get-BackupItemPath -Relative $relative) -Bytes $live.Bytes
            Add-ArtifactRecord -StepId $Step.Id -Artifact @{ Path = $relative; Kind = 'settings-backup'; Subject = $live.Path; Secret = $false }
            if ((Get-FileSha256 -Path $live.Path) -ne $script:Artifacts[$relative].Sha256) { throw ('the copy of ' + $live.Path + ' differs from the original (it changed while being copied?)') }
            $entry.backup = $relative
            $entry.sha256 = $script:Artifacts[$relative].Sha256
        }
        $entries.Add($entry)
    }
    $document = [ordered]@{ format = $script:Formats.SettingsBackup; files = $entries.ToArray() }
    Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative $p.Manifest) -Text (ConvertTo-Json -InputObject $document -Depth 5)
}

function Edit-JsonFile {
    # edit-json: set and remove top-level keys; the previous values are recorded once, for restore-json-keys.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $set = [ordered]@{}
    foreach ($entry in (ConvertFrom-Json -InputObject $p.SetJson).PSObject.Properties) { $set[$entry.Name] = $entry.Value }
    Merge-JsonFile -Step $Step -Set $set -Remove $p.Remove -Create:$p.Create -Record
}

function Restore-JsonKey {
    # restore-json-keys: the keys an earlier edit-json changed, set back as it recorded them (absent ones removed).
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $previous = Get-JsonProperty -Object (Get-StepState -Id $p.FromStep).Record -Name 'previous'
    if ($null -eq $previous) {
        if ($script:DryRun) { Add-StepNote -Text ($p.FromStep + ' has not recorded its values yet'); return }
        throw ($p.FromStep + ' recorded no previous values')
    }
    $set = [ordered]@{}
    $remove = @()
    foreach ($key in $p.Keys) {
        $record = Get-JsonProperty -Object $previous -Name $key
        if ($null -eq $record) { throw ('no previous value was recorded for ' + $key) }
        $present = [bool](Get-JsonProperty -Object $record -Name 'present' -Default $false)
        # Read directly, not through a function: 5.1 may write an array a function returned as { value, Count }.
        if ($present) { $set[$key] = $record.value }
        if (-not $present) { $remove += $key }
    }
    Merge-JsonFile -Step $Step -Set $set -Remove $remove
}

function Edit-IniFile {
    # edit-ini: each key the section lacks added as key=value, a value the user set never replaced, a UTF-8 BOM and
    # every other byte kept, by the rules of docs/runbook.md (settingsfile.edit_ini_text).
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $file = Resolve-HostFile -File $p.File
    $skip = 0
    if ($file.Bytes.Length -ge 3 -and $file.Bytes[0] -eq 0xEF -and $file.Bytes[1] -eq 0xBB -and $file.Bytes[2] -eq 0xBF) { $skip = 3 }
    try {
        $text = (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false, $true).GetString($file.Bytes, $skip, $file.Bytes.Length - $skip)
    } catch {
        throw ($file.Path + ': the file is not UTF-8 (WSL reads .wslconfig as UTF-8)')
    }
    $newline = $script:CrLf
    if (-not $text.Contains($script:CrLf) -and $text.Contains($script:Lf)) { $newline = $script:Lf }
    $have = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::OrdinalIgnoreCase)
    $inside = $false
    $at = $text.Length
    foreach ($line in [regex]::Matches($text, '[^\n]*\n|[^\n]+$')) {
        $header = [regex]::Match($line.Value.TrimEnd([char[]]@([char]13, [char]10)), '^\s*\[([^\]]*)\]\s*$')
        if ($header.Success -and $inside) { break }
        if ($header.Success -and $header.Groups[1].Value.Trim() -eq $p.Section) { $inside = $true }
        $body = $line.Value.Trim()
        if (-not $inside -or $body.Length -eq 0) { continue }
        # New lines go after the section's last non-blank line (its header at first).
        $at = $line.Index + $line.Length
        if ('#;'.IndexOf($body[0]) -lt 0 -and $body.Contains('=')) { [void]$have.Add($body.Substring(0, $body.IndexOf('=')).Trim()) }
    }
    $added = @()
    $lines = ''
    foreach ($entry in $p.Add) {
        if ($have.Contains($entry.Key)) { continue }
        $added += $entry.Key
        $lines += $entry.Key + '=' + $entry.Value + $newline
    }
    if ($added.Count -eq 0) { Add-StepNote -Text ($file.Path + ' already sets ' + (@($p.Add | ForEach-Object -Process { $_.Key }) -join ', ')); return }
    if (-not $inside) { $lines = '[' + $p.Section + ']' + $newline + $lines }
    if ($at -gt 0 -and $text[$at - 1] -ne [char]10) { $lines = $newline + $lines }
    $out = $script:Utf8NoBom.GetBytes($text.Insert($at, $lines))
    if ($skip -gt 0) { $out = [byte[]](@(0xEF, 0xBB, 0xBF) + $out) }
    Write-HostFile -File $file -Bytes $out -Change ('Add ' + ($added -join ', ') + ' to [' + $p.Section + ']')
}

function Invoke-HostProgram {
    # enable-feature, install-wsl, set-wsl-default-version, upgrade-desktop: the program run the plan describes
    # ($Step.Params.Run, docs/runbook.md "Host programs"): dism.exe (the DISM module fails in Store-installed
    # PowerShell 7), wsl.exe or msiexec.exe of System32, an installer, DockerCli.exe (switch-containers, which calls
    # it). Without one the user installs by hand when asked (-Force: the run fails with the instructions, to resume).
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    $run = $Step.Params.Run
    $version = $null
    $done = $run.Done
    if ($run.Probe.Length -gt 0) {
        $version = Get-InstalledVersion -Probe $run.Probe -StepId $Step.Id
        if ($null -ne $version -and $version -ge [System.Version]$run.MinVersion) {
            Add-StepNote -Text ($run.What + ' ' + $version + ' is already installed')
            return
        }
    }
    if ($run.Program.Length -eq 0) {
        $instructions = $run.What + ' ' + $version + ' is older than ' + $run.MinVersion + ', ' + $run.Manual
        if ($script:DryRun) {
            Write-Warning -Message ($instructions + '; the real run stops here and asks for it')
            $script:StepDeclined = $true
            return
        }
        if ($script:Options.Force) { throw ($instructions + ', then run the runbook again with -Resume') }
        if (-not (Confirm-GoOn -Query ($instructions + '. Go on once it is installed?') -Caption $run.Action)) {
            throw ('stopped: ' + $instructions + ', then run the runbook again with -Resume')
        }
    } else {
        if ($run.Requires.Length -gt 0) {
            $required = Resolve-HostPath -Template $run.Requires
            if (-not [System.IO.File]::Exists($required)) { throw ($required + ': ' + $run.Missing) }
        }
        # Desktop starts at logon from its Run entry whatever its settings say: it must not run while WSL changes.
        if ($run.Stopped.Length -gt 0) { Assert-DesktopStopped -What $run.Stopped }
        if (-not $PSCmdlet.ShouldProcess($run.Target, $run.Action)) { $script:StepDeclined = $true; return }
        $file = Resolve-HostPath -Template $run.Program
        if ($run.System32) { $file = Get-SystemProgram -Name $run.Program }
        $result = Invoke-NativeProcess -FilePath $file -Arguments $run.Arguments -Display $run.Arguments -StepId $Step.Id -OkExitCodes $run.OkExitCodes -TimeoutSeconds $run.Timeout -UnicodeOutput:$run.Utf16
        if (@($run.RestartExitCodes) -contains $result.ExitCode) {
            $script:Journal.RebootNeeded = $true
            $script:Journal.RebootRequestedBy = $Step.Id
            $done += '; Windows must restart (exit code ' + $result.ExitCode + ')'
        }
    }
    if ($run.Recheck) {
        $version = Get-InstalledVersion -Probe $run.Probe -StepId $Step.Id
        if ($null -eq $version -or $version -lt [System.Version]$run.MinVersion) {
            throw ($run.What + ' is ' + $version + ' afterwards, still older than ' + $run.MinVersion)
        }
        $done += ' (' + $version + ')'
    }
    Add-StepNote -Text $done
}

function Test-WslReady {
    # check-wsl: read-only; exit codes and one version number, no translated text (docs/runbook.md "Host
    # programs"). Under -WhatIf the steps that install WSL did not run: what fails is reported, not thrown.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $problems = New-Object -TypeName 'System.Collections.Generic.List[string]'
    $wsl = Get-SystemProgram -Name 'wsl.exe'
    if (-not [System.IO.File]::Exists($wsl)) {
        $problems.Add('wsl.exe is missing: WSL is not installed')
    } else {
        $status = Invoke-NativeProcess -FilePath $wsl -Arguments '--status' -Display '--status' -StepId $Step.Id -TimeoutSeconds $p.Timeout -NoThrow -UnicodeOutput
        if ($status.TimedOut -or $status.ExitCode -ne 0) {
            $problems.Add('wsl --status failed (exit code ' + $status.ExitCode + '; restart Windows if a feature was just turned on): ' + (Get-TextTail -Text ($status.StdOut + ' ' + $status.StdErr)))
        }
        $version = Get-InstalledVersion -Probe 'wsl' -StepId $Step.Id
        if ($p.MinVersion.Length -gt 0 -and $null -eq $version) {
            $problems.Add('wsl --version reports nothing: this is the inbox WSL, which Docker Desktop cannot use; run wsl --update or install the WSL package')
        } elseif ($p.MinVersion.Length -gt 0 -and $version -lt [System.Version]$p.MinVersion) {
            $problems.Add('WSL ' + $version + ' is older than ' + $p.MinVersion + ': run wsl --update')
        }
        if ($p.DefaultVersion -gt 0) {
            $recorded = Get-JsonProperty -Object (Get-ItemProperty -LiteralPath 'HKCU:\Software\Microsoft\Windows\CurrentVersion\Lxss' -ErrorAction SilentlyContinue) -Name 'DefaultVersion'
            if ($null -ne $recorded -and [int]$recorded -ne $p.DefaultVersion) {
                $problems.Add('WSL creates new distributions as WSL ' + $recorded + ': run wsl --set-default-version ' + $p.DefaultVersion)
            }
        }
    }
    if ($problems.Count -eq 0) {
        Add-StepNote -Text ('WSL ' + $version + ' answers')
    } elseif ($script:DryRun) {
        Write-Warning -Message ('WSL is not ready yet (the real run installs it first): ' + ($problems -join '; '))
    } else {
        throw ($problems -join '; ')
    }
}

function Request-Restart {
    # reboot: when an earlier step needs a restart, registers the logon task that resumes this runbook (this user,
    # interactive, highest privileges, allowed on battery, no time limit), records the boot time, and stops.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    if (-not $script:Journal.RebootNeeded) { Add-StepNote -Text 'no restart needed'; return }
    if (-not $PSCmdlet.ShouldProcess($script:ResumeTaskName, 'Register a logon task that resumes the runbook after the restart')) { $script:StepDeclined = $true; return }
    # The task runs a copy owned by Administrators, writable by them and SYSTEM only: the original may sit where the
    # user's unelevated programs can change it, and the task would run their change elevated.
    $copy = Resolve-HostPath -Template $script:ResumeTaskCopy
    Protect-Folder -Path ([System.IO.Path]::GetDirectoryName($copy)) -Sids @('S-1-5-32-544', 'S-1-5-18') -StepId $Step.Id -AdminOwned -Confirm:$false
    $bytes = [System.IO.File]::ReadAllBytes($script:Options.ScriptPath)
    Write-BytesFileAtomic -Path $copy -Bytes $bytes
    if ((Get-FileSha256 -Path $copy) -ne (Get-BytesSha256 -Bytes $bytes)) { throw ("the copy of the runbook in '" + $copy + "' does not hash like the runbook") }
    # The console host of this edition, not whatever hosts this session (an editor's, the ISE).
    $shell = [System.IO.Path]::Combine($PSHOME, $(if ($PSVersionTable.PSEdition -eq 'Core') { 'pwsh.exe' } else { 'powershell.exe' }))
    $arguments = $script:ResumeArguments -f (ConvertTo-QuotedArgument -Value $copy), (ConvertTo-QuotedArgument -Value $script:BackupRoot), (ConvertTo-QuotedArgument -Value $script:DockerExe), $script:Options.EngineTimeoutSeconds, $script:Engines['source'], $script:Engines['target'], $script:Engines['hyperv']
    if ($script:Options.Phase.Length -gt 0) { $arguments += ' -Phase ' + $script:Options.Phase }
    if ($script:Options.Force) { $arguments += ' -Force' }
    $splatTask = @{
        TaskName    = $script:ResumeTaskName
        Action      = New-ScheduledTaskAction -Execute $shell -Argument $arguments
        Trigger     = New-ScheduledTaskTrigger -AtLogOn -User ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name)
        Description = 'Resumes the wsl2-migrate runbook of plan ' + $script:PlanHash + ' after a restart'
    }
    Register-RunbookTask -Task $splatTask -RunLevel Highest
    $script:Journal.BootTime = Get-BootTime
    Save-Journal
    Write-RunbookLog -StepId $Step.Id -Message ('registered task ' + $script:ResumeTaskName)
    $script:StopRequested = $true
    Add-StepNote -Text 'restart Windows now; the runbook resumes after you log on'
}

function Start-DockerDesktop {
    # start-desktop: Docker Desktop started as the desktop user without elevation, through a one-time task (a
    # process started from this elevated shell would run elevated).
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    $exe = Resolve-HostPath -Template $Step.Params.Exe
    if (-not [System.IO.File]::Exists($exe)) { throw ($exe + ': Docker Desktop is not installed there') }
    if (-not $PSCmdlet.ShouldProcess('Docker Desktop', 'Start (not elevated)')) { $script:StepDeclined = $true; return }
    Register-RunbookTask -Task @{ TaskName = $script:DesktopTaskName; Action = New-ScheduledTaskAction -Execute $exe } -RunLevel Limited
    try {
        Start-ScheduledTask -TaskName $script:DesktopTaskName
        if (-not (Wait-DesktopProcess -Seconds $script:Timeouts.DesktopStart)) { throw ('Docker Desktop did not start within ' + $script:Timeouts.DesktopStart + ' s (' + $exe + ')') }
    } finally {
        Unregister-ScheduledTask -TaskName $script:DesktopTaskName -Confirm:$false
    }
    Add-StepNote -Text 'Docker Desktop started (not elevated)'
}

function Switch-DockerEngine {
    # switch-containers: when the engine does not answer as the plan expects, Docker Desktop is switched between
    # Linux and Windows containers (DockerCli.exe, the program run the plan describes) and the engine waited for.
    # Desktop's Linux engine in the Hyper-V VM answers at its own pipe in Windows mode only while the VM runs, and
    # Desktop started in Windows mode does not start the VM (docker/for-win#4357); a switch to Linux containers does.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    if ($null -ne (Confirm-Engine -Engine $p.Engine -StepId $Step.Id -NoThrow)) {
        Add-StepNote -Text ('the ' + $p.Engine + ' engine answers as expected: no switch')
        return
    }
    Invoke-HostProgram -Step $Step
    if (-not $script:StepDeclined) { [void](Confirm-Engine -Engine $p.Engine -StepId $Step.Id -WaitSeconds $p.Timeout) }
}

function Wait-DockerEngine {
    # wait-engine: until the engine answers and is what the plan expects (OS, kernel, not the source), then the
    # registry settings the plan carries are checked in its docker info.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $info = Confirm-Engine -Engine $p.Engine -StepId $Step.Id -WaitSeconds $p.Timeout
    Assert-Check -Engine $p.Engine -Checks $p.Checks -StepId $Step.Id
    Add-StepNote -Text ($p.Engine + ' engine: ' + [string](Get-JsonProperty -Object $info -Name 'OSType' -Default '') + ' ' + [string](Get-JsonProperty -Object $info -Name 'KernelVersion' -Default ''))
}

function Read-DigestToken {
    # The first token of a digest file if it is sha256:<64 lower-case hex>, else ''.
    [CmdletBinding()] [OutputType([string])] param([Parameter(Mandatory)] [string]$Relative)
    $path = Get-BackupItemPath -Relative $Relative
    if (-not [System.IO.File]::Exists($path)) { return '' }
    $token = ((Read-TextFile -Path $path).Trim() -split '\s+')[0]
    if ($token -cmatch '^sha256:[0-9a-f]{64}$') { return $token }
    return ''
}

function Test-TargetEngine {
    # verify-target: every planned check of the new engine passes and every copied volume's digest after the
    # restore equals its digest before the switch (docs/runbook.md, "Final check").
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    $p = $Step.Params
    $problems = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($volume in $p.Volumes) {
        $before = Read-DigestToken -Relative $volume.BackupDigest
        $after = Read-DigestToken -Relative $volume.TargetDigest
        if ($before.Length -eq 0 -or $after.Length -eq 0) {
            $problems.Add('volume ' + $volume.Name + ': a digest file is missing or malformed')
        } elseif ($before -cne $after) {
            $problems.Add('volume ' + $volume.Name + ': content differs (before ' + $before + ', after ' + $after + ')')
        }
    }
    Assert-Check -Engine $Step.Engine -Checks $p.Checks -StepId $Step.Id -More $problems.ToArray()
    Add-StepNote -Text ([string]@($p.Checks).Count + ' check(s) and ' + @($p.Volumes).Count + ' volume digest(s) as planned')
}

function Complete-Migration {
    # finish: the resume task removed, the journal marked finished, summary.json written.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    Unregister-ResumeTask -Step $Step
    if ($script:StepDeclined -or -not $PSCmdlet.ShouldProcess($script:Layout.Journal, 'Mark the migration finished')) { $script:StepDeclined = $true; return }
    $script:Journal.Finished = Get-TimeStamp
    $summary = [ordered]@{ planHash = $script:PlanHash; finished = $script:Journal.Finished; steps = @($script:Results | ForEach-Object -Process { [ordered]@{ id = $_.StepId; status = $_.Status; notes = $_.Notes } }) }
    Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative $script:Layout.Summary) -Text (ConvertTo-Json -InputObject $summary -Depth 5)
    Add-StepNote -Text ('backups stay in ' + $script:BackupRoot + '; the old backend''s data is untouched')
}

function Unregister-ResumeTask {
    # remove-resume-task: nothing may resume this migration at a later logon. The start-desktop task too (a run
    # ended while Docker Desktop started, by a power cut, may have left it), then the runbook copy the task ran.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    $tasks = @(Get-ScheduledTask -TaskName @($script:ResumeTaskName, $script:DesktopTaskName) -ErrorAction SilentlyContinue)
    if ($tasks.Count -eq 0) { Add-StepNote -Text 'no resume task' }
    foreach ($task in $tasks) {
        if (-not $PSCmdlet.ShouldProcess($task.TaskName, 'Remove the scheduled task')) { $script:StepDeclined = $true; continue }
        Unregister-ScheduledTask -TaskName $task.TaskName -Confirm:$false
        Add-StepNote -Text ('task ' + $task.TaskName + ' removed')
    }
    $copy = Resolve-HostPath -Template $script:ResumeTaskCopy
    if ([System.IO.File]::Exists($copy) -and -not $script:StepDeclined) { if ($PSCmdlet.ShouldProcess($copy, 'Remove the runbook copy the task ran')) { [System.IO.File]::Delete($copy) } }
}

function Restore-HostFile {
    # restore-files: each host file the backup-files step copied goes back (re-hashed first, written as an edit is); a
    # file it found absent and that exists now (the runbook created it) is moved into the backup folder, never deleted.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    Assert-DesktopStopped -What 'the settings are put back'
    $name = $Step.Params.Manifest
    $manifest = Read-JsonDocument -Path (Get-BackupItemPath -Relative $name)
    if ($null -eq $manifest) { Add-StepNote -Text 'no settings backup: nothing to put back'; return }
    $files = Get-JsonProperty -Object $manifest -Name 'files' -Default @()
    foreach ($file in $files) {
        $path = [string](Get-RequiredProperty -Object $file -Name 'path' -File $name)
        $live = @{ Path = $path; Existed = [System.IO.File]::Exists($path); Bytes = (New-Object -TypeName 'byte[]' -ArgumentList 0) }
        if ($live.Existed) { $live.Bytes = [System.IO.File]::ReadAllBytes($path) }
        if ([bool](Get-RequiredProperty -Object $file -Name 'present' -File $name)) {
            $copy = Get-BackupItemPath -Relative ([string](Get-RequiredProperty -Object $file -Name 'backup' -File $name))
            $sha256 = [string](Get-JsonProperty -Object $file -Name 'sha256' -Default '')
            if ((Get-FileSha256 -Path $copy) -ne $sha256) { throw ($copy + ' does not match its recorded hash: not restoring it') }
            if ($live.Existed -and (Get-BytesSha256 -Bytes $live.Bytes) -eq $sha256) { continue }
            Write-HostFile -File $live -Bytes ([System.IO.File]::ReadAllBytes($copy)) -Change 'Put back the copy made before the migration'
        } elseif (-not $live.Existed) {
            continue
        } elseif ($PSCmdlet.ShouldProcess($path, 'Move the file the migration created into the backup folder')) {
            $aside = Get-BackupItemPath -Relative $script:Layout.Rollback
            [void][System.IO.Directory]::CreateDirectory($aside)
            [System.IO.File]::Move($path, [System.IO.Path]::Combine($aside, [guid]::NewGuid().ToString('N') + '-' + [System.IO.Path]::GetFileName($path)))
            Add-StepNote -Text ('moved aside ' + $path)
        } else {
            $script:StepDeclined = $true
        }
    }
}

function Complete-Rollback {
    # mark-rolled-back: the journal is tombstoned; a later run or resume of this plan in this folder refuses.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step)
    if (-not $PSCmdlet.ShouldProcess($script:Layout.Journal, 'Mark the migration rolled back (no resume after this)')) { $script:StepDeclined = $true; return }
    $script:Journal.RolledBack = Get-TimeStamp
    Add-StepNote -Text 'journal marked rolled back'
}

# ---------------------------------------------------------------------------------------------------------------
# Running steps (docs/runbook.md, "Running a program"; the rehearsal's interpreter.py)

function Test-BackupsVerified {
    # verify-backups (the program's $script:BackupGate) passed; each artifact it lists still has the sha256 it verified.
    [CmdletBinding()] [OutputType([bool])] param()
    $gate = $script:BackupGate
    if ($null -eq $gate -or ((Get-StepStatus -Id $gate.Id) -ne 'done' -and $script:RunStatus[$gate.Id] -ne 'done')) { return $false }
    foreach ($relative in $gate.Params.Artifacts) {
        $verified = $script:Journal.Verified[$relative]
        if ($null -eq $verified -or -not $script:Artifacts.ContainsKey($relative) -or $verified.sha256 -ne $script:Artifacts[$relative].sha256) { return $false }
    }
    return $true
}

function Get-StepBlocker {
    # Why a step cannot run now: @{ Status = 'WouldRun' | 'Failed'; Notes = ... }, or $null when it can. The
    # artifacts it reads are re-hashed here, right before it uses them.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    foreach ($dependency in $Step.DependsOn) {
        if ((Get-StepStatus -Id $dependency) -eq 'done' -or $script:RunStatus[$dependency] -eq 'done') { continue }
        if ($script:RunStatus[$dependency] -eq 'wouldrun' -or $script:DryRun) { return @{ Status = 'WouldRun'; Notes = 'runs after ' + $dependency } }
        return @{ Status = 'Failed'; Notes = 'depends on ' + $dependency + ', which is not done' }
    }
    if ($script:GatedPhases -contains $Step.Phase -and -not (Test-BackupsVerified)) {
        if ($script:DryRun) { return @{ Status = 'WouldRun'; Notes = 'runs after the backups are verified' } }
        return @{ Status = 'Failed'; Notes = 'the backups have not passed backup/verify, or one changed after it did: then they cannot be trusted; go back with -Rollback and start again with a new -BackupPath' }
    }
    foreach ($relative in $Step.Consumes) {
        $problem = Test-ArtifactUnchanged -Relative $relative
        if ($problem.Length -gt 0 -and $script:DryRun) { return @{ Status = 'WouldRun'; Notes = 'needs ' + $relative } }
        if ($problem.Length -gt 0) { return @{ Status = 'Failed'; Notes = $problem } }
    }
    return $null
}

function Invoke-QuietDocker {
    # Commands whose failure only means there was nothing to do (recovery, clean-up): noted, never thrown.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step, [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]]$Commands, [Parameter(Mandatory)] [string]$Why)
    foreach ($command in $Commands) {
        $done = Invoke-DockerCommand -Engine $Step.Engine -Segments $command.CommandLine -Display $command.Display -StepId $Step.Id -TimeoutSeconds $script:Timeouts.Cleanup -NoThrow
        Add-StepNote -Text ($Why + ' (' + $command.Display + '): exit code ' + $done.ExitCode)
    }
}

function Invoke-DockerStep {
    # A docker step (docs/runbook.md): a mutating one only when ShouldProcess agrees; after an interrupted attempt its
    # helper removed and its half-made object put back; an object of its name must not exist (the run never adopts
    # one it did not make); the command with its time limit, and its checks.
    [CmdletBinding(SupportsShouldProcess)] param([Parameter(Mandatory)] [hashtable]$Step, [Parameter(Mandatory)] [bool]$StartedBefore)
    $docker = $Step.Docker
    if ($Step.Mutating -and -not $PSCmdlet.ShouldProcess($Step.Target, $Step.Title)) { $script:StepDeclined = $true; return }
    if ($StartedBefore -and -not $script:DryRun) {
        Invoke-QuietDocker -Step $Step -Commands $docker.Cleanup -Why 'clean-up'
        Invoke-QuietDocker -Step $Step -Commands $docker.Recover -Why 'recovered'
    }
    foreach ($command in $docker.Absent) {
        $probe = Invoke-DockerCommand -Engine $Step.Engine -Segments $command.CommandLine -Display $command.Display -StepId $Step.Id -TimeoutSeconds $script:Timeouts.Probe -OkExitCodes @(0, 1)
        if ($probe.ExitCode -eq 0) {
            throw ("'" + $Step.Target + "' already exists on the " + $Step.Engine + ' engine and this run did not make it (an earlier install''s?): rename or remove it there, then resume')
        }
    }
    $splatDocker = @{
        Engine         = $Step.Engine
        Segments       = $docker.CommandLine
        Display        = $docker.Display
        StepId         = $Step.Id
        OkExitCodes    = $docker.OkExitCodes
        TimeoutSeconds = $docker.Timeout
    }
    if ($docker.WorkDir.Length -gt 0) {
        $splatDocker.WorkingDirectory = Resolve-HostPath -Template $docker.WorkDir
        if (-not [System.IO.Directory]::Exists($splatDocker.WorkingDirectory)) { throw ("working folder '" + $splatDocker.WorkingDirectory + "' does not exist") }
    }
    if ($docker.Progress.Length -gt 0) { $splatDocker.ProgressPath = Get-BackupItemPath -Relative $docker.Progress }
    if (-not $script:DryRun) {
        # Written before the command starts: a resume after a power cut knows it may have had its effect.
        Write-StepRecord -Id $Step.Id -Name 'commandStarted' -Value $true
        Save-Journal
    }
    $finished = $false
    try {
        $result = Invoke-DockerCommand @splatDocker
        $finished = $true
    } finally {
        if (-not $finished) {
            # Timed out, failed or Ctrl+C: a helper container goes on inside the engine when its client ends.
            Invoke-QuietDocker -Step $Step -Commands $docker.Cleanup -Why 'clean-up'
        }
    }
    if ($result.ExitCode -ne 0) { Add-StepNote -Text ('docker exited with code ' + $result.ExitCode) }
    if ($docker.ExpectOutput.Length -gt 0 -and $result.StdOut.Trim() -cne $docker.ExpectOutput) { throw ('unexpected output: ' + (Get-TextTail -Text $result.StdOut -Length 400)) }
    if ($docker.RecordOutput) {
        # A re-run makes a new object (a new commit): the newest output is the one later checks need.
        Write-StepRecord -Id $Step.Id -Name 'output' -Value $result.StdOut.Trim()
    }
    Assert-Check -Engine $Step.Engine -Checks $docker.Checks -StepId $Step.Id
}

function Invoke-HostAction {
    # The host action's function, by the action's name (the table in docs/runbook.md); the kinds that run a planned
    # program share one.
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step)
    switch ($Step.Kind) {
        'check-host' { Test-MigrationHost -Step $Step }
        'prepare-backup-folder' { Initialize-BackupFolder -Step $Step }
        { $_ -in 'write-env-file', 'write-secret-values' } { Export-InspectedValue -Step $Step }
        'verify-backups' { Test-BackupArtifact -Step $Step }
        'stop-desktop' { Stop-DockerDesktop -Step $Step }
        'check-vm-off' { Wait-VmOff -Step $Step }
        'backup-files' { Backup-HostFile -Step $Step }
        'edit-json' { Edit-JsonFile -Step $Step }
        'restore-json-keys' { Restore-JsonKey -Step $Step }
        'edit-ini' { Edit-IniFile -Step $Step }
        { $_ -in 'upgrade-desktop', 'enable-feature', 'install-wsl', 'set-wsl-default-version' } { Invoke-HostProgram -Step $Step }
        'reboot' { Request-Restart -Step $Step }
        'check-wsl' { Test-WslReady -Step $Step }
        'start-desktop' { Start-DockerDesktop -Step $Step }
        'wait-engine' { Wait-DockerEngine -Step $Step }
        'switch-containers' { Switch-DockerEngine -Step $Step }
        'verify-target' { Test-TargetEngine -Step $Step }
        'finish' { Complete-Migration -Step $Step }
        'remove-resume-task' { Unregister-ResumeTask -Step $Step }
        'restore-files' { Restore-HostFile -Step $Step }
        'mark-rolled-back' { Complete-Rollback -Step $Step }
        default { throw ('step ' + $Step.Id + ': unknown host action ' + $Step.Kind) }
    }
}

function Invoke-RunbookStep {
    # One step: journal, blockers, the engine's identity, the work, the artifacts it wrote. Its result is the
    # runbook's one output type (one object per step), kept for the summary; its status is the step's for the steps
    # after it in this run (a dry run writes no journal; a declined step keeps its entry).
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Step, [Parameter(Mandatory)] [int]$Total, [switch]$Always)
    $startedAt = Get-Date
    Write-Progress -Id 1 -Activity 'wsl2-migrate runbook' -Status ('Step {0} of {1}: {2}' -f $Step.Index, $Total, $Step.Id) -PercentComplete ([int](100 * ($Step.Index - 1) / $Total))
    Write-Information -MessageData ('[{0}/{1}] {2}: {3}' -f $Step.Index, $Total, $Step.Id, $Step.Title) -InformationAction Continue
    $status = Get-StepStatus -Id $Step.Id
    if ($Step.OnlyIfStarted.Length -gt 0 -and (Get-StepStatus -Id $Step.OnlyIfStarted) -eq 'pending') {
        $outcome = @{ Status = 'Skipped'; Notes = $Step.OnlyIfStarted + ' never started' }
    } elseif ($status -eq 'done' -and -not $Always) {
        $outcome = @{ Status = 'Skipped'; Notes = 'already done ' + $script:Journal.Steps[$Step.Id].EndedAt }
    } else {
        $outcome = Get-StepBlocker -Step $Step
    }
    $cannot = ' cannot run: '
    if ($null -eq $outcome) {
        $script:StepDeclined = $false
        $script:StepNotes = New-Object -TypeName 'System.Collections.Generic.List[string]'
        Write-StepStatus -Id $Step.Id -Status 'running'
        try {
            if ($Step.Engine.Length -gt 0 -and $script:SelfProving -notcontains $Step.Kind -and -not $script:CheckedEngines.ContainsKey($Step.Engine)) {
                [void](Confirm-Engine -Engine $Step.Engine -StepId $Step.Id)
            }
            if ($Step.Kind -eq 'docker') {
                $startedBefore = $status -ne 'done' -and $true -eq (Get-JsonProperty -Object (Get-StepState -Id $Step.Id).Record -Name 'commandStarted' -Default $false)
                Invoke-DockerStep -Step $Step -StartedBefore $startedBefore
            } else {
                if ($script:EngineChanging -contains $Step.Kind) {
                    # After it a pipe may reach another engine: the next step that talks to one proves it again.
                    $script:CheckedEngines = @{}
                }
                Invoke-HostAction -Step $Step
            }
            if ($script:StepDeclined) {
                Write-StepStatus -Id $Step.Id -Status $status -Notes 'not run (-WhatIf or declined)'
                $outcome = @{ Status = 'WouldRun'; Notes = $script:StepNotes -join '; ' }
            } else {
                if (-not $script:DryRun) {
                    foreach ($artifact in $Step.Produces) { Add-ArtifactRecord -StepId $Step.Id -Artifact $artifact }
                }
                $outcome = @{ Status = 'Successful'; Notes = $script:StepNotes -join '; ' }
                Write-StepStatus -Id $Step.Id -Status 'done' -Notes $outcome.Notes
            }
        } catch {
            $outcome = @{ Status = 'Failed'; Notes = $_.Exception.Message }
            $cannot = ' failed: '
            Write-StepStatus -Id $Step.Id -Status 'failed' -Notes $outcome.Notes
            Write-RunbookLog -StepId $Step.Id -Message ('failed: ' + $outcome.Notes)
        }
    }
    $script:RunStatus[$Step.Id] = @{ Successful = 'done'; Skipped = 'done'; Failed = 'failed'; WouldRun = 'wouldrun' }[$outcome.Status]
    $result = [pscustomobject]@{
        PSTypeName = 'Wsl2Migrate.StepResult'
        StepId     = $Step.Id
        Name       = $Step.Title
        Target     = $Step.Target
        Status     = $outcome.Status
        Notes      = $outcome.Notes
        StartedAt  = $startedAt
        Duration   = (Get-Date) - $startedAt
    }
    $script:Results.Add($result)
    if ($outcome.Status -eq 'Failed') { throw ('step ' + $Step.Id + ' (' + $Step.Title + ')' + $cannot + $outcome.Notes) }
    return $result
}

# ---------------------------------------------------------------------------------------------------------------
# Main

function Invoke-Runbook {
    [CmdletBinding()] param([Parameter(Mandatory)] [hashtable]$Options)
    $script:DryRun = [bool]$WhatIfPreference
    $script:Options = $Options
    if (-not [System.Environment]::Is64BitProcess) {
        throw 'this is a 32-bit PowerShell: Windows would redirect System32 (wsl.exe, dism.exe) for it. Run the runbook from the 64-bit PowerShell'
    }
    $script:BackupRoot = Assert-BackupFolderPath -Path $Options.BackupPath
    foreach ($engine in $script:EngineExpect.Keys) {
        # Pasted into the docker command line unquoted: an engine URL may hold no blanks, quotes or controls.
        $name = $script:EngineParameters[$engine]
        $url = $Options[$name]
        if ($url -notmatch '^(npipe|tcp|unix|ssh)://[\x21-\x7e]+$' -or $url.IndexOfAny([char[]]@([char]34, [char]39, [char]96)) -ge 0) {
            throw ($name + ' ' + $url + ': expected an engine URL such as npipe:////./pipe/docker_engine (no spaces or quotes)')
        }
        $script:Engines[$engine] = $url
    }
    $script:DockerExe = Resolve-DockerExecutable -Path $Options.DockerPath
    if ($Options.Rollback -and ($Options.ResumeFrom.Length -gt 0 -or $Options.Phase.Length -gt 0 -or $Options.Resume)) {
        throw '-Rollback cannot be combined with -Resume, -ResumeFrom or -Phase'
    }
    if ($Options.ResumeFrom.Length -gt 0 -and $Options.Phase.Length -gt 0) { throw 'use either -ResumeFrom or -Phase' }
    if (-not ([System.Security.Principal.WindowsPrincipal][System.Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
        if (-not $script:DryRun) { throw 'the runbook must run elevated (Run as administrator); -WhatIf works without' }
        Write-Warning -Message 'not elevated: the dry run goes on, the real run will need an elevated PowerShell'
    }
    $mutex = New-Object -TypeName System.Threading.Mutex -ArgumentList $false, $script:MutexName
    try {
        $owned = $mutex.WaitOne(0)
    } catch [System.Threading.AbandonedMutexException] {
        $owned = $true
    }
    if (-not $owned) {
        $mutex.Dispose()
        throw 'another run of this runbook is in progress (it holds the lock): wait for it to end'
    }
    $transcriptStarted = $false
    try {
        $runId = (Get-Date).ToUniversalTime().ToString('yyyyMMdd-HHmmss', $script:Invariant) + '-' + $PID
        $logFolder = [System.IO.Path]::GetTempPath().TrimEnd([char[]]@([char]92))
        if (-not $script:DryRun) {
            if (-not [System.IO.Directory]::Exists($script:BackupRoot)) {
                # Locked to this user before the first log line is written into it: so this must be the desktop's.
                [void](Assert-DesktopUser)
                $script:StepDeclined = $false
                Initialize-BackupFolder -Step @{ Id = 'start'; Params = @{ Folders = @() } }
                if ($script:StepDeclined) { throw ('nothing was changed: the run keeps its journal and logs in ' + $script:BackupRoot + ', which it may only create locked') }
            }
            $logFolder = Get-BackupItemPath -Relative $script:Layout.Logs
            [void][System.IO.Directory]::CreateDirectory($logFolder)
            $script:LogPath = [System.IO.Path]::Combine($logFolder, 'runbook-' + $runId + '.jsonl')
        }
        $script:TranscriptPath = [System.IO.Path]::Combine($logFolder, 'transcript-' + $runId + '.txt')
        try {
            [void](Start-Transcript -LiteralPath $script:TranscriptPath -WhatIf:$false)
            $transcriptStarted = $true
        } catch {
            Write-Warning -Message ('no transcript: ' + $_.Exception.Message)
        }
        Write-RunbookLog -Message ('plan ' + $script:PlanHash + ', runbook ' + $script:ToolVersion + ', backup folder ' + $script:BackupRoot + ', dry run ' + $script:DryRun)
        Import-Journal
        Import-ArtifactRecord
        if ($script:Journal.RolledBack.Length -gt 0 -and -not $Options.Rollback) {
            throw ('this migration was rolled back at ' + $script:Journal.RolledBack + '; a rolled-back run never resumes. To migrate again, make a new plan and use a new -BackupPath')
        }
        if ($Options.Resume -and -not $script:Journal.Exists) { throw ('-Resume: no ' + $script:Layout.Journal + ' in ' + $script:BackupRoot) }
        if ($script:Journal.RebootNeeded -and $script:Journal.BootTime.Length -gt 0) {
            $restarted = (Get-BootTime) -ne $script:Journal.BootTime
            if (-not $restarted -and -not $Options.Rollback) {
                throw ('Windows has not restarted since ' + $script:Journal.RebootRequestedBy + ' asked for it: restart Windows; the runbook resumes after you log on')
            }
            if ($restarted) {
                # Docker Desktop may be starting at this logon from its Run entry: the first stop waits for it.
                $script:AfterRestart = $true
                $script:Journal.RebootNeeded = $false
                $script:Journal.BootTime = ''
                Save-Journal
            }
        }
        # -Rollback: each rollback step whose forward step started runs (again, when rollback runs again).
        $program = $script:Steps
        if ($Options.Rollback) {
            if (-not $script:Journal.Exists) {
                Write-Information -MessageData ('nothing to roll back: no ' + $script:Layout.Journal + ' in ' + $script:BackupRoot + ' (this plan never ran there)') -InformationAction Continue
                return
            }
            $program = $script:RollbackSteps
        }
        $from = 1
        if ($Options.ResumeFrom.Length -gt 0) { $from = @($program | Where-Object -FilterScript { $_.Id -eq $Options.ResumeFrom })[0].Index }
        foreach ($step in $program) {
            if ($step.Index -lt $from -or ($Options.Phase.Length -gt 0 -and $step.Phase -ne $Options.Phase)) { continue }
            Invoke-RunbookStep -Step $step -Total $program.Count -Always:$Options.Rollback
            if ($script:StopRequested) {
                Write-Warning -Message ('Restart Windows now. After you log on, the task ' + $script:ResumeTaskName + ' resumes the runbook; or run it again with -Resume.')
                break
            }
        }
        if ($Options.Rollback) {
            Save-Journal
            Write-Information -MessageData ('rolled back; the backups stay in ' + $script:BackupRoot + '; this plan will not resume in this folder') -InformationAction Continue
        }
    } catch {
        $failure = $_
        Write-Warning -Message $failure.Exception.Message
        Write-Warning -Message ('Log: ' + $script:LogPath + '; transcript: ' + $script:TranscriptPath)
        if (-not $script:DryRun -and $script:Journal.Exists) {
            $again = "& '" + $Options.ScriptPath.Replace("'", "''") + "'"
            $folder = " -BackupPath '" + $script:BackupRoot.Replace("'", "''") + "'"
            $next = 'continue with: ' + $again + ' -Resume' + $folder + '   (or go back with: ' + $again + ' -Rollback' + $folder + ')'
            if ($Options.Rollback) { $next = 'roll back again with: ' + $again + ' -Rollback' + $folder }
            Write-Warning -Message ('Fix the cause, then ' + $next)
        }
        throw
    } finally {
        # The lock and the transcript first, each on its own: a failing summary line must not keep them.
        try {
            if ($transcriptStarted) { [void](Stop-Transcript) }
        } finally {
            $mutex.ReleaseMutex()
            $mutex.Dispose()
        }
        Write-Progress -Id 1 -Activity 'wsl2-migrate runbook' -Completed
        $counts = @($script:Results | Group-Object -Property Status | ForEach-Object -Process { $_.Name + ' ' + $_.Count })
        $lines = @($script:Results | ForEach-Object -Process { '{0,-10} {1} {2}' -f $_.Status, $_.StepId, $_.Notes })
        Write-Information -MessageData ((@('steps: ' + ($counts -join ', ')) + $lines) -join $script:Lf) -InformationAction Continue
        if ($Options.FromTask) {
            # Started by the logon task: its window closes when the script ends, before anyone read it.
            [void](Read-Host -Prompt 'wsl2-migrate: press Enter to close this window')
        }
    }
}
