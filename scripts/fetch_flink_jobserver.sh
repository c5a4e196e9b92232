#!/usr/bin/env bash
# Fetch a Beam Flink job-server jar into the Maven cache and print its path.
#
#   JAR=$(scripts/fetch_flink_jobserver.sh)
#   furui run --output OUT --runner=FlinkRunner --flink_master=[local] \
#       --flink_job_server_jar="$JAR" --environment_type=LOOPBACK
#
# Idempotent: a second call finds the jar (and every jar it references) on
# disk and prints the path without starting Maven.  Only stdout carries the
# path; progress goes to stderr.
#
# Two ways to get a job server, tried in order:
#
# 1. The official shaded jar
#    org.apache.beam:beam-runners-flink-${FLINK_VERSION}-job-server:${BEAM_VERSION}
#    copied with `mvn dependency:copy`.  This is what Beam's FlinkRunner would
#    download itself.
# 2. If the registry does not serve it (the case for Beam 2.77.0 on the Maven
#    mirror this project is built with: no *-job-server artifact of any
#    version is served), a "composite" jar assembled from the unshaded runner
#    artifact org.apache.beam:beam-runners-flink-1.19:${FALLBACK_BEAM_VERSION}
#    and its transitive dependencies.  The composite jar holds only a manifest
#    (Main-Class FlinkJobServerDriver, Class-Path pointing into ~/.m2), the same
#    trick Beam's own JavaJarServer.make_classpath_jar uses, so `java -jar`
#    (which is how FlinkRunner starts --flink_job_server_jar) works.
#    The Java side is then older than the Python SDK; the Fn/Job API protos
#    are compatible across these releases and tests/pipeline/test_runners.py
#    checks the output against the local runner's.
#
# Environment (all optional):
#   BEAM_VERSION           Beam release of the official jar   (2.77.0)
#   FLINK_VERSION          Flink minor version of the official jar (1.19)
#   FALLBACK_BEAM_VERSION  Beam release of the assembled job server (2.62.0)
#   FURUI_JOBSERVER_MODE   auto | official | composite           (auto)
#   MAVEN_REPO             local Maven repository    (~/.m2/repository)
#   FURUI_JAR_DIR          where the composite jar is written (~/.m2/furui)
#   MVN                    Maven executable                      (mvn)
set -euo pipefail

BEAM_VERSION="${BEAM_VERSION:-2.77.0}"
FLINK_VERSION="${FLINK_VERSION:-1.19}"
FALLBACK_BEAM_VERSION="${FALLBACK_BEAM_VERSION:-2.62.0}"
FALLBACK_FLINK_VERSION="1.19"
MODE="${FURUI_JOBSERVER_MODE:-auto}"
MAVEN_REPO="${MAVEN_REPO:-$HOME/.m2/repository}"
FURUI_JAR_DIR="${FURUI_JAR_DIR:-$HOME/.m2/furui}"
MVN="${MVN:-mvn}"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# slf4j binding so the job server's log lines reach its stderr.
SLF4J_SIMPLE_VERSION="1.7.30"

log() { echo "fetch_flink_jobserver: $*" >&2; }

official_jar() {
  local cached_only="${1:-}"
  local artifact="beam-runners-flink-${FLINK_VERSION}-job-server"
  local jar="$MAVEN_REPO/org/apache/beam/$artifact/$BEAM_VERSION/$artifact-$BEAM_VERSION.jar"
  if [[ -s "$jar" ]]; then
    echo "$jar"
    return 0
  fi
  [[ -z "$cached_only" ]] || return 1
  log "fetching org.apache.beam:$artifact:$BEAM_VERSION"
  local out
  out="$(mktemp -d)"
  # dependency:copy resolves into the local repository (the cache) and copies
  # the jar to $out; we keep using the cached copy.
  if "$MVN" -q -B "$DEP_PLUGIN:copy" \
      -Dmaven.repo.local="$MAVEN_REPO" \
      -Dartifact="org.apache.beam:$artifact:$BEAM_VERSION:jar" \
      -DoutputDirectory="$out" >"$out/mvn.log" 2>&1 && [[ -s "$jar" ]]; then
    rm -rf "$out"
    echo "$jar"
    return 0
  fi
  log "official job-server jar not available:"
  grep -m 1 -oE '(Could not find|Could not resolve|Failed to execute).*' "$out/mvn.log" | cut -c1-300 >&2 || true
  rm -rf "$out"
  return 1
}

composite_jar() {
  local cached_only="${1:-}"
  local name="beam-runners-flink-${FALLBACK_FLINK_VERSION}-job-server-${FALLBACK_BEAM_VERSION}-composite"
  local jar="$FURUI_JAR_DIR/$name.jar"
  local cpfile="$FURUI_JAR_DIR/$name.classpath"
  if [[ -s "$jar" && -s "$cpfile" ]]; then
    local missing=0 entry
    while IFS= read -r entry || [[ -n "$entry" ]]; do
      [[ -s "$entry" ]] || { missing=1; break; }
    done < <(tr ':' '\n' <"$cpfile")
    if [[ $missing == 0 ]]; then
      echo "$jar"
      return 0
    fi
  fi
  [[ -z "$cached_only" ]] || return 1
  log "assembling job server from org.apache.beam:beam-runners-flink-${FALLBACK_FLINK_VERSION}:${FALLBACK_BEAM_VERSION}"
  mkdir -p "$FURUI_JAR_DIR"
  local work
  work="$(mktemp -d)"
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>furui</groupId>
  <artifactId>flink-jobserver-classpath</artifactId>
  <version>0</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.beam</groupId>
      <artifactId>beam-runners-flink-${FALLBACK_FLINK_VERSION}</artifactId>
      <version>${FALLBACK_BEAM_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>${SLF4J_SIMPLE_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF
  if ! (cd "$work" && "$MVN" -q -B "$DEP_PLUGIN:build-classpath" \
      -Dmaven.repo.local="$MAVEN_REPO" \
      -Dmdep.outputFile="$work/classpath.txt" >"$work/mvn.log" 2>&1); then
    log "could not resolve the fallback job server:"
    grep -m 3 -oE '(Could not find|Could not resolve|Failed to execute).*' "$work/mvn.log" | cut -c1-300 >&2 || true
    rm -rf "$work"
    return 1
  fi
  # Class-Path entries must be relative to the jar's directory.
  {
    echo "Manifest-Version: 1.0"
    echo "Main-Class: org.apache.beam.runners.flink.FlinkJobServerDriver"
    local first=1 entry rel
    while IFS= read -r entry || [[ -n "$entry" ]]; do
      rel="$(realpath --relative-to="$FURUI_JAR_DIR" "$entry")"
      if [[ $first == 1 ]]; then
        echo "Class-Path: $rel"
        first=0
      else
        # Continuation line: the first space is dropped by the parser, the
        # second one separates entries.
        echo "  $rel"
      fi
    done < <(tr ':' '\n' <"$work/classpath.txt")
  } >"$work/MANIFEST.MF"
  (cd "$work" && jar --create --file "$work/$name.jar" --manifest "$work/MANIFEST.MF")
  cp "$work/classpath.txt" "$cpfile.tmp" && mv "$cpfile.tmp" "$cpfile"
  mv "$work/$name.jar" "$jar"
  rm -rf "$work"
  echo "$jar"
}

case "$MODE" in
  official) official_jar ;;
  composite) composite_jar ;;
  # Cache first (no Maven start-up), then the registry.
  auto) official_jar cached || composite_jar cached || official_jar || composite_jar ;;
  *) log "unknown FURUI_JOBSERVER_MODE=$MODE (auto|official|composite)"; exit 2 ;;
esac
