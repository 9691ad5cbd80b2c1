# Install rules: libslid.a, the public headers, the `slid` program with its help texts, the CMake
# package (find_package(slid) -> slid::slid) and a pkg-config file (slid.pc). Included by the
# top-level CMakeLists.txt when SLID_INSTALL is ON.
include(CMakePackageConfigHelpers)

set(SLID_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/slid" CACHE STRING
    "Where slidConfig.cmake is installed, relative to the prefix")

install(TARGETS slid EXPORT slidTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/slid DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT slidTargets NAMESPACE slid:: DESTINATION ${SLID_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/slidConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/slidConfig.cmake
                              INSTALL_DESTINATION ${SLID_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/slidConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)  # 0.x: minor versions may break the API
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/slidConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/slidConfigVersion.cmake
        DESTINATION ${SLID_INSTALL_CMAKEDIR})

# pkg-config: the library is static, so its C dependencies are in Requires (not Requires.private),
# so that a plain `pkg-config --libs slid` links. -march=native travels like the CMake usage requirement.
set(SLID_PC_CFLAGS "-DEIGEN_DONT_PARALLELIZE ${OpenMP_CXX_FLAGS}")
if(SLID_NATIVE)
  string(APPEND SLID_PC_CFLAGS " -march=native")
endif()
# prefix is found from the .pc file's own place (${pcfiledir}), so an installed tree can be moved and
# `cmake --install build --prefix P` gives a correct file whatever CMAKE_INSTALL_PREFIX was.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SLID_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH slid_pc_up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" slid_pc_up "${slid_pc_up}")
  set(SLID_PC_PREFIX "\${pcfiledir}/${slid_pc_up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SLID_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(SLID_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SLID_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SLID_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/slid.pc.in ${CMAKE_CURRENT_BINARY_DIR}/slid.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/slid.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The shipped default model (the file models/default.slid links to), so an installed slid can be
# tried at once.
get_filename_component(SLID_DEFAULT_MODEL_FILE "${CMAKE_CURRENT_SOURCE_DIR}/models/default.slid" REALPATH)
install(FILES "${SLID_DEFAULT_MODEL_FILE}" DESTINATION ${CMAKE_INSTALL_DATADIR}/slid/models RENAME default.slid)

if(TARGET slid_cli)
  install(TARGETS slid_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # Help texts, one per subcommand (share/doc/slid/help/slid.txt, slid-identify.txt, ...): the
  # program's own --help output, written at install time by the binary just installed.
  install(CODE "
    set(slid_bin \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/slid\")
    set(help_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}/help\")
    file(MAKE_DIRECTORY \"\${help_dir}\")
    foreach(cmd \"\" eval features identify info train version)
      set(name slid)
      if(cmd)
        set(name slid-\${cmd})
      endif()
      execute_process(COMMAND \"\${slid_bin}\" \${cmd} --help OUTPUT_FILE \"\${help_dir}/\${name}.txt\"
                      RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR \"\${slid_bin} \${cmd} --help failed (\${rc})\")
      endif()
      message(STATUS \"Installing: \${help_dir}/\${name}.txt\")
    endforeach()
  ")
endif()
