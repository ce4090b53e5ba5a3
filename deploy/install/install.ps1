<#
.SYNOPSIS
Outpost agent installer for Windows, served by the hub at /install.ps1 with the hub's URL written in.

.DESCRIPTION
In an elevated PowerShell (Run as Administrator), or as the hub prints it for an enrollment token:

  powershell -NoProfile -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((irm https://hub.example.com/install.ps1))) -Token <enrollment token>"

Parameters (a contract: the hub's install command and the docs use these names; install.sh has
the same options, and --no-sandbox, which only systemd has):
  -Token T           enrollment token from the hub (required; never printed)
  -Prefix DIR        install under DIR instead of Program Files and ProgramData: the programs in
                     DIR\bin, the config and data in DIR\data; no Administrator needed with -NoService
  -NoService         do not install the Windows service; print how to start the agent by hand
  -Name NAME         agent name (default: chosen by the hub)
  -CaFile FILE       PEM CA(s) that signed the hub's certificate, instead of the system's
  -Pin sha256:HEX    accept only the hub certificate with this SHA-256 fingerprint
  -Replace           re-enroll a host that is already enrolled (the hub keeps its agent record)

It downloads the agent and its service wrapper (WinSW) from the hub, checks their SHA-256,
installs both in Program Files\Outpost, enrolls this host with the token (config in
ProgramData\Outpost, which only SYSTEM, Administrators and the installing user may read) and,
unless told not to, installs and starts the outpost-agent Windows service. Any failure stops it
with a message; failures throw rather than exit, because pasted into an open PowerShell window,
`exit` would close that window.
#>
[CmdletBinding()]
param(
  [string]$Token,
  [string]$Prefix,
  [switch]$NoService,
  [string]$Name,
  [string]$CaFile,
  [string]$Pin,
  [switch]$Replace
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0
# Windows PowerShell redraws its progress bar for every chunk received, which makes a 100 MB
# download many times slower.
$ProgressPreference = 'SilentlyContinue'

$HubUrl = '__OUTPOST_HUB_URL__'

# WinSW 1.17 is built for .NET 2.0, which Windows 8 and later only have when .NET 3.5 is added as
# a feature; this file beside the wrapper lets it run on the .NET 4 that every Windows ships.
$WrapperRuntimeConfig = @'
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <startup>
    <supportedRuntime version="v2.0.50727" />
    <supportedRuntime version="v4.0" />
  </startup>
</configuration>
'@

# Only for -CaFile and -Pin: Invoke-WebRequest cannot be told which CA or certificate to trust
# (PowerShell 7 ignores ServicePointManager), so these downloads check the certificate here,
# with the agent's rules: -Pin accepts exactly that certificate, whoever signed it; -CaFile
# accepts a certificate for this host name that chains to one of its CAs.
$TrustedDownloadSource = @'
using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

public static class OutpostTrustedDownload
{
    public static void ToFile(string url, string path, string caFile, string pinHex)
    {
        X509Certificate2Collection authorities = string.IsNullOrEmpty(caFile) ? null : ReadPem(caFile);
        string refusal = null;
        HttpWebRequest request = (HttpWebRequest)WebRequest.Create(url);
        request.ServerCertificateValidationCallback = delegate (object sender, X509Certificate certificate, X509Chain chain, SslPolicyErrors errors)
        {
            refusal = Refusal(certificate, errors, authorities, pinHex);
            return refusal == null;
        };
        try
        {
            using (WebResponse response = request.GetResponse())
            using (Stream body = response.GetResponseStream())
            using (FileStream file = File.Create(path))
            {
                body.CopyTo(file);
            }
        }
        catch (WebException)
        {
            // Without the inner error, which would only say that the certificate was refused.
            if (refusal != null) throw new WebException(refusal);
            throw;
        }
    }

    static string Refusal(X509Certificate certificate, SslPolicyErrors errors, X509Certificate2Collection authorities, string pinHex)
    {
        if (certificate == null) return "the hub sent no certificate";
        X509Certificate2 leaf = new X509Certificate2(certificate);
        if (!string.IsNullOrEmpty(pinHex))
        {
            string actual;
            using (SHA256 sha = SHA256.Create())
            {
                actual = BitConverter.ToString(sha.ComputeHash(leaf.RawData)).Replace("-", "").ToLowerInvariant();
            }
            return actual == pinHex ? null : "the hub certificate (sha256:" + actual + ") does not match -Pin sha256:" + pinHex;
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return "the hub certificate is not issued for this host name";
        X509Chain own = new X509Chain();
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        own.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        own.ChainPolicy.ExtraStore.AddRange(authorities);
        if (!own.Build(leaf))
        {
            string problems = "";
            foreach (X509ChainStatus status in own.ChainStatus) problems += " " + status.StatusInformation.Trim();
            return "the hub certificate is not valid:" + problems;
        }
        foreach (X509ChainElement element in own.ChainElements)
        {
            foreach (X509Certificate2 authority in authorities)
            {
                if (element.Certificate.Thumbprint == authority.Thumbprint) return null;
            }
        }
        return "the hub certificate was not issued by a CA in -CaFile";
    }

    static X509Certificate2Collection ReadPem(string path)
    {
        X509Certificate2Collection certificates = new X509Certificate2Collection();
        foreach (Match match in Regex.Matches(File.ReadAllText(path), "-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----"))
        {
            certificates.Add(new X509Certificate2(Convert.FromBase64String(match.Groups[1].Value)));
        }
        if (certificates.Count == 0) throw new InvalidDataException(path + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return certificates;
    }
}
'@

function Say([string]$Message) {
  Write-Host "outpost: $Message"
}

function Fail([string]$Message) {
  throw "outpost: error: $Message"
}

# A word as PowerShell reads it back: single-quoted, quotes doubled.
function Format-Word([string]$Word) {
  '''' + $Word.Replace('''', '''''') + ''''
}

function Show-ManualStart {
  Say 'start the agent by hand (it runs in the foreground until Ctrl+C):'
  Write-Host "  & $(Format-Word $Agent) run --config $(Format-Word $Config) --data-dir $(Format-Word $DataDir)"
}

function Get-HubFile([string]$Url, [string]$OutFile) {
  try {
    if ($CaFile -or $PinHex) {
      [OutpostTrustedDownload]::ToFile($Url, $OutFile, $CaFile, $PinHex)
    } else {
      Invoke-WebRequest -Uri $Url -OutFile $OutFile -UseBasicParsing
    }
  } catch {
    Fail "cannot download ${Url}: $($_.Exception.GetBaseException().Message)"
  }
}

# Windows refuses to overwrite a running program but lets it be renamed: a running agent (or
# service wrapper) keeps its old file until it restarts, as on Linux. An old file still in use
# stays until the next install removes it.
function Move-IntoPlace([string]$Source, [string]$Target) {
  $old = "$Target.$([guid]::NewGuid().ToString('N')).old"
  if (Test-Path -LiteralPath $Target) {
    Move-Item -LiteralPath $Target -Destination $old
  }
  Move-Item -LiteralPath $Source -Destination $Target
  Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue
}

# Downloads $Url beside $Target, checks it against the hub's checksum, then puts it in place. The
# download is written in the target directory so that it gets that directory's permissions (a
# file moved in from the user's temp directory would keep the user's own).
function Install-FromHub([string]$Url, [string]$Target) {
  $download = "$Target.download"
  $sumFile = Join-Path $Work ((Split-Path -Leaf $Target) + '.sha256')
  Say "downloading $Url"
  Get-HubFile $Url $download
  Get-HubFile "$Url.sha256" $sumFile
  $expected = (([string](Get-Content -LiteralPath $sumFile -Raw)).Trim() -split '\s+')[0].ToLowerInvariant()
  if ($expected -notmatch '^[0-9a-f]{64}$') {
    Fail "the checksum the hub sent for $Url is not a SHA-256"
  }
  $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $download).Hash.ToLowerInvariant()
  if ($actual -ne $expected) {
    Fail "checksum mismatch for ${Url}: expected $expected, got $actual; the download is damaged or was altered"
  }
  Say "checksum verified (sha256 $actual)"
  Move-IntoPlace $download $Target
}

# ProgramData lets every local user read what is under it, and agent.json holds the agent's
# credential: only SYSTEM (the service), Administrators and the installing user keep access.
function Protect-Directory([string]$Path) {
  $me = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value
  & icacls.exe $Path /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' "*${me}:(OI)(CI)F" | Out-Null
  if ($LASTEXITCODE -ne 0) {
    Fail "cannot restrict access to $Path (icacls exit $LASTEXITCODE)"
  }
}

if (-not $Token) {
  Fail '-Token is required (create an enrollment token on the hub)'
}
# The hub writes its URL over the placeholder when it serves this script; split here so that
# this check is not rewritten with it.
if ($HubUrl -eq ('__OUTPOST_' + 'HUB_URL__')) {
  Fail 'download this script from your hub (irm <hub>/install.ps1), not from the repository'
}
if ([Environment]::OSVersion.Platform -ne [PlatformID]::Win32NT) {
  Fail 'this installer is for Windows; on Linux use install.sh from the hub'
}
if (-not [Environment]::Is64BitOperatingSystem) {
  Fail 'the hub serves the agent for 64-bit Windows only'
}

$principal = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
$isAdministrator = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
if ($Prefix) {
  $Prefix = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Prefix)
  $BinDir = Join-Path $Prefix 'bin'
  $DataDir = Join-Path $Prefix 'data'
} else {
  if (-not $isAdministrator) {
    Fail 'installing to Program Files and ProgramData needs an elevated PowerShell (Run as Administrator), or give -Prefix'
  }
  $BinDir = Join-Path $env:ProgramFiles 'Outpost'
  $DataDir = Join-Path $env:ProgramData 'Outpost'
}
# Checked before anything is done: enrolling first would spend a single-use token for nothing.
if (-not $NoService -and -not $isAdministrator) {
  Fail 'installing the Windows service needs an elevated PowerShell (Run as Administrator); or add -NoService'
}
$Agent = Join-Path $BinDir 'outpost-agent.exe'
# `outpost-agent install` looks for the wrapper under this name beside the agent and writes the
# service definition beside it as outpost-agent-service.xml (WinSW reads the XML named like itself).
$Wrapper = Join-Path $BinDir 'outpost-agent-service.exe'
$Config = Join-Path $DataDir 'agent.json'

if ($CaFile) {
  if (-not (Test-Path -LiteralPath $CaFile -PathType Leaf)) {
    Fail "cannot read -CaFile $CaFile"
  }
  # Absolute, for the service, which starts in another directory.
  $CaFile = (Resolve-Path -LiteralPath $CaFile).ProviderPath
}
$PinHex = ''
if ($Pin) {
  $PinHex = (($Pin.Trim() -replace '^sha256(\s+fingerprint)?\s*[:=]', '') -replace '[:\s]', '').ToLowerInvariant()
  if ($PinHex -notmatch '^[0-9a-f]{64}$') {
    Fail 'invalid -Pin: expected sha256:<64 hex digits> (openssl x509 -noout -fingerprint -sha256)'
  }
}
if (($CaFile -or $PinHex) -and -not ('OutpostTrustedDownload' -as [type])) {
  Add-Type -TypeDefinition $TrustedDownloadSource -IgnoreWarnings
}
# Windows PowerShell on older .NET offers only TLS 1.0 and 1.1 unless told; 0 is SystemDefault
# (newer .NET), which already allows TLS 1.2 and 1.3.
if ([int][Net.ServicePointManager]::SecurityProtocol -ne 0) {
  [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
}

$Work = Join-Path ([IO.Path]::GetTempPath()) ('outpost-' + [guid]::NewGuid().ToString('N'))
try {
  New-Item -ItemType Directory -Path $Work | Out-Null
  New-Item -ItemType Directory -Force -Path $BinDir | Out-Null
  Get-ChildItem -LiteralPath $BinDir -Filter 'outpost-agent*.old' | Remove-Item -Force -ErrorAction SilentlyContinue

  Install-FromHub "$HubUrl/downloads/agent/win-x64" $Agent
  Install-FromHub "$HubUrl/downloads/agent/win-x64-service-wrapper" $Wrapper
  Set-Content -LiteralPath "$Wrapper.config" -Value $WrapperRuntimeConfig -Encoding UTF8

  try {
    $version = & $Agent --version
  } catch {
    Fail "the downloaded agent does not run on this machine: $($_.Exception.Message)"
  }
  if ($LASTEXITCODE -ne 0) {
    Fail 'the downloaded agent does not run on this machine'
  }
  Say "installed outpost-agent $version as $Agent"

  # Restricted before enroll writes the credential into it, so it is never readable by others.
  New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
  Protect-Directory $DataDir

  $enrollArguments = @('--hub', $HubUrl, '--token', $Token, '--config', $Config)
  if ($Name) { $enrollArguments += @('--name', $Name) }
  if ($CaFile) { $enrollArguments += @('--ca-file', $CaFile) }
  if ($PinHex) { $enrollArguments += @('--pin', "sha256:$PinHex") }
  if ($Replace) { $enrollArguments += '--replace' }
  & $Agent enroll @enrollArguments
  if ($LASTEXITCODE -ne 0) {
    Fail 'enrollment failed (the agent said why above)'
  }

  if ($NoService) {
    Say 'no service installed (-NoService)'
    Show-ManualStart
  } else {
    & $Agent install --config $Config --data-dir $DataDir --binary $Agent
    if ($LASTEXITCODE -ne 0) {
      Show-ManualStart
      Fail 'the service could not be installed (the agent said why above)'
    }
    Say "the agent runs as the outpost-agent service: Get-Service outpost-agent; logs in $(Join-Path $DataDir 'logs')"
  }
} finally {
  Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
  Remove-Item -LiteralPath "$Agent.download", "$Wrapper.download" -Force -ErrorAction SilentlyContinue
}
