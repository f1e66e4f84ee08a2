# What aioConfig.cmake must find before it loads aioTargets.cmake.
#
# aio_export_dependencies() looks at every exported aio::<module> target, collects the
# imported targets it links (public ones, and the $<LINK_ONLY:...> ones that static
# libraries pass on) and turns each into a find_dependency() line. Call it after every
# module was added. It sets, in the caller's scope:
#   AIO_EXPORTED_MODULES     modules built and exported (core;green;...)
#   AIO_PACKAGE_DEPENDENCIES the find_dependency() lines, one per line
# A module whose dependency the table below does not know (a PkgConfig:: target, say)
# adds its own lines:
#   set_property(GLOBAL APPEND PROPERTY AIO_PACKAGE_DEPENDENCIES
#     "find_dependency(PkgConfig)\npkg_check_modules(hiredis REQUIRED IMPORTED_TARGET hiredis)")
# and lists the targets it covers so they are not reported as unknown:
#   set_property(GLOBAL APPEND PROPERTY AIO_PACKAGE_DEPENDENCY_TARGETS PkgConfig::hiredis)
set(AIO_MODULES core sync net exec green http web redis mysql testing)

function(aio_export_dependencies)
  set(modules "")
  set(seen "")
  foreach(m ${AIO_MODULES})  # the targets aio_add_module() exports
    if(NOT TARGET aio_${m})
      continue()
    endif()
    list(APPEND modules ${m})
    get_target_property(libs aio_${m} INTERFACE_LINK_LIBRARIES)
    if(libs)
      string(REGEX MATCHALL "[A-Za-z0-9_.+-]+::[A-Za-z0-9_.+-]+" found "${libs}")
      list(APPEND seen ${found})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES seen)

  get_property(custom GLOBAL PROPERTY AIO_PACKAGE_DEPENDENCIES)
  get_property(covered GLOBAL PROPERTY AIO_PACKAGE_DEPENDENCY_TARGETS)
  set(lines "")
  set(boost_components "")
  set(packages "")
  foreach(t ${seen})
    string(REGEX MATCH "^[^:]+" ns "${t}")
    string(REGEX REPLACE "^[^:]+::" "" name "${t}")
    if(ns STREQUAL "aio" OR t IN_LIST covered)
      continue()
    elseif(ns STREQUAL "Boost")
      if(NOT name MATCHES "^(headers|boost|disable_autolinking|diagnostic_definitions|dynamic_linking)$")
        list(APPEND boost_components ${name})
      endif()
      list(APPEND packages Boost)
    elseif(ns MATCHES "^(Threads|OpenSSL|ZLIB|fmt|nlohmann_json|GTest|c-ares|benchmark)$")
      list(APPEND packages ${ns})
    else()
      message(WARNING "aio: an exported target links ${t}, which aioConfig.cmake does not know how to "
                      "find: add it to AIO_PACKAGE_DEPENDENCIES (see cmake/AioExportDependencies.cmake)")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES packages)
  foreach(p ${packages})
    if(p STREQUAL "Boost")
      list(REMOVE_DUPLICATES boost_components)
      if(boost_components)
        list(JOIN boost_components " " comps)
        string(APPEND lines "find_dependency(Boost COMPONENTS ${comps})\n")
      else()
        string(APPEND lines "find_dependency(Boost)\n")
      endif()
    else()
      string(APPEND lines "find_dependency(${p})\n")
    endif()
  endforeach()
  foreach(c ${custom})
    string(APPEND lines "${c}\n")
  endforeach()
  set(AIO_EXPORTED_MODULES "${modules}" PARENT_SCOPE)
  set(AIO_PACKAGE_DEPENDENCIES "${lines}" PARENT_SCOPE)
endfunction()
